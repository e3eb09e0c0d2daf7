"""The audit trail read back as sentences, as the timelines and the dashboard show it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clientledger.accounts.models import Membership
from clientledger.core.audit import audit_record, audit_sentence, timeline_entries
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Deal, DealStage
from tests.factories import ClientFactory, DealFactory

pytestmark = pytest.mark.django_db


def test_a_plain_action_reads_as_verb_then_subject(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme")
    event = audit_record(
        agency=owner.agency, actor=owner.user, verb="client.created", subject=client
    )

    assert audit_sentence(event) == "created client “Acme”"


def test_a_stage_change_names_both_stages_by_their_labels(owner: Membership) -> None:
    deal: Deal = DealFactory(client=ClientFactory(agency=owner.agency), title="Relaunch")
    event = audit_record(
        agency=owner.agency,
        actor=owner.user,
        verb="deal.stage_changed",
        subject=deal,
        data={"from": DealStage.LEAD, "to": DealStage.PROPOSAL},
    )

    assert audit_sentence(event) == "moved deal “Relaunch” from Lead to Proposal"


def test_an_event_without_a_phrase_reads_as_the_words_of_its_verb(owner: Membership) -> None:
    event = audit_record(
        agency=owner.agency, actor=owner.user, verb="member.role_changed", subject=owner
    )

    assert audit_sentence(event) == f"member role changed “{owner}”"


def test_an_event_without_an_actor_was_done_by_the_system(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency)
    event = audit_record(agency=owner.agency, actor=None, verb="client.updated", subject=client)

    [entry] = timeline_entries([event])

    assert entry.actor_name == "System"


def test_what_stripe_reports_is_told_as_stripe_doing_it(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme")
    failed = audit_record(agency=owner.agency, actor=None, verb="payment.failed", subject=client)
    swept = audit_record(agency=owner.agency, actor=None, verb="estimate.expired", subject=client)

    entries = timeline_entries([failed, swept])

    assert [entry.actor_name for entry in entries] == ["Stripe", "System"]


def test_a_payment_entry_names_its_amount_in_the_currency_it_was_recorded_in(
    owner: Membership,
) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme", currency="EUR")
    event = audit_record(
        agency=owner.agency,
        actor=owner.user,
        verb="payment.recorded",
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
        verb="refund.succeeded",
        subject=client,
        client_id=client.pk,
        data={"amount": Decimal("50.00")},
    )

    [entry] = timeline_entries(AuditEvent.objects.select_related("actor", "client"))

    assert entry.sentence == "refund succeeded “Acme”: £50.00"


def test_an_approval_is_shown_under_the_name_the_client_typed(owner: Membership) -> None:
    client = ClientFactory(agency=owner.agency)
    signed = audit_record(
        agency=owner.agency,
        actor=None,
        verb="estimate.approved",
        subject=client,
        data={"name": "Ada Lovelace", "ip": "203.0.113.9"},
    )
    unsigned = audit_record(
        agency=owner.agency, actor=None, verb="estimate.approved", subject=client, data={}
    )

    entries = timeline_entries([signed, unsigned])

    assert [entry.actor_name for entry in entries] == ["Ada Lovelace", "The client"]
