"""The audit trail read back as sentences, as the timelines and the dashboard show it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from clientledger.accounts.audit_verbs import MemberVerb
from clientledger.accounts.models import Membership
from clientledger.billing.audit_verbs import EstimateVerb
from clientledger.core.audit import audit_record, audit_sentence, timeline_entries
from clientledger.core.audit_verbs import AuditVerb, audit_verb_types
from clientledger.core.models import AuditEvent
from clientledger.crm.audit_verbs import ClientVerb, DealVerb
from clientledger.crm.models import Deal, DealStage
from clientledger.payments.audit_verbs import PaymentVerb, RefundVerb
from tests.factories import ClientFactory, DealFactory
from tests.source_code import CODE, string_keyword_arguments

pytestmark = pytest.mark.django_db


def recorded(**event: Any) -> AuditEvent:
    """The event `audit_record` appends, read back."""
    audit_record(**event)
    return AuditEvent.objects.latest("id")


def test_a_plain_action_reads_as_verb_then_subject(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme")
    event = recorded(agency=owner.agency, actor=owner.user, verb=ClientVerb.CREATED, subject=client)

    assert audit_sentence(event) == "created client “Acme”"


def test_a_stage_change_names_both_stages_by_their_labels(owner: Membership) -> None:
    deal: Deal = DealFactory(client=ClientFactory(agency=owner.agency), title="Relaunch")
    event = recorded(
        agency=owner.agency,
        actor=owner.user,
        verb=DealVerb.STAGE_CHANGED,
        subject=deal,
        data={"from": DealStage.LEAD, "to": DealStage.PROPOSAL},
    )

    assert audit_sentence(event) == "moved deal “Relaunch” from Lead to Proposal"


def test_an_event_without_a_phrase_reads_as_the_words_of_its_verb(owner: Membership) -> None:
    event = recorded(
        agency=owner.agency, actor=owner.user, verb=MemberVerb.ROLE_CHANGED, subject=owner
    )

    assert audit_sentence(event) == f"member role changed “{owner}”"


def test_an_event_without_an_actor_was_done_by_the_system(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency)
    event = recorded(agency=owner.agency, actor=None, verb=ClientVerb.UPDATED, subject=client)

    [entry] = timeline_entries([event])

    assert entry.actor_name == "System"


def test_what_stripe_reports_is_told_as_stripe_doing_it(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme")
    failed = recorded(agency=owner.agency, actor=None, verb=PaymentVerb.FAILED, subject=client)
    swept = recorded(agency=owner.agency, actor=None, verb=EstimateVerb.EXPIRED, subject=client)

    entries = timeline_entries([failed, swept])

    assert [entry.actor_name for entry in entries] == ["Stripe", "System"]


def test_a_payment_entry_names_its_amount_in_the_currency_it_was_recorded_in(
    owner: Membership,
) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme", currency="EUR")
    event = recorded(
        agency=owner.agency,
        actor=owner.user,
        verb=PaymentVerb.RECORDED,
        subject=client,
        client_id=client.pk,
        data={"amount": Decimal("500.00"), "currency": "EUR", "method": "bank_transfer"},
    )

    assert audit_sentence(event) == "payment recorded “Acme”: €500.00"


def test_an_amount_without_its_currency_is_read_in_the_clients_currency(
    owner: Membership,
) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme", currency="GBP")
    audit_record(
        agency=owner.agency,
        actor=None,
        verb=RefundVerb.SUCCEEDED,
        subject=client,
        client_id=client.pk,
        data={"amount": Decimal("50.00")},
    )

    [entry] = timeline_entries(AuditEvent.objects.select_related("actor", "client"))

    assert entry.sentence == "refund succeeded “Acme”: £50.00"


def test_an_approval_is_shown_under_the_name_the_client_typed(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency)
    signed = recorded(
        agency=owner.agency,
        actor=None,
        verb=EstimateVerb.APPROVED,
        subject=client,
        data={"name": "Ada Lovelace", "ip": "203.0.113.9"},
    )
    unsigned = recorded(
        agency=owner.agency, actor=None, verb=EstimateVerb.APPROVED, subject=client, data={}
    )

    entries = timeline_entries([signed, unsigned])

    assert [entry.actor_name for entry in entries] == ["Ada Lovelace", "The client"]


# --- every verb the code records is declared, and reads as a sentence ------------------

MEMBER_REFERENCE = re.compile(r"\b([A-Z][A-Za-z]*Verb)\.([A-Z][A-Z_]*)\b")


def _verbs_by_name() -> dict[tuple[str, str], AuditVerb]:
    return {
        (verb_type.__name__, verb.name): verb
        for verb_type in audit_verb_types()
        for verb in verb_type
    }


def _member_references() -> set[tuple[str, str]]:
    """`InvoiceVerb.ISSUED` and the like, wherever the code names a member."""
    return {
        (match[1], match[2])
        for path in CODE.rglob("*.py")
        for match in MEMBER_REFERENCE.finditer(path.read_text())
    }


def test_each_app_declares_its_verbs_in_its_audit_verbs_module() -> None:
    verb_types = audit_verb_types()
    verbs = [verb for verb_type in verb_types for verb in verb_type]
    max_length = AuditEvent._meta.get_field("verb").max_length
    assert max_length is not None

    assert verb_types
    assert all(re.fullmatch(r"clientledger\.\w+\.audit_verbs", t.__module__) for t in verb_types)
    assert len({t.__name__ for t in verb_types}) == len(verb_types)
    assert len({verb.value for verb in verbs}) == len(verbs)
    assert [
        verb
        for verb in verbs
        if not re.fullmatch(r"[a-z_]+\.[a-z_]+", verb.value) or len(verb.value) > max_length
    ] == []


def test_every_verb_reads_as_a_sentence_that_names_its_subject() -> None:
    for verb_type in audit_verb_types():
        for verb in verb_type:
            event = AuditEvent(verb=verb, subject_type="crm.client", subject_repr="Acme", data={})

            assert "“Acme”" in audit_sentence(event), verb


def test_the_code_records_verbs_by_their_members_only() -> None:
    """A verb built from a string would escape grep, mypy and the checks above."""
    assert string_keyword_arguments("verb") == []


def test_every_member_the_code_names_is_a_verb_and_every_verb_is_recorded() -> None:
    declared = _verbs_by_name()
    named = _member_references()

    assert sorted(set(named) - set(declared)) == []
    assert sorted(set(declared) - set(named)) == []
