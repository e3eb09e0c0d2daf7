"""Estimate services: drafts from deals, sending, the client's answer, conversion, expiry."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import resolve, reverse
from django.utils import timezone

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.documents.data import document_data
from clientledger.billing.models import (
    DocumentCounter,
    Estimate,
    EstimateStatus,
    Invoice,
    PortalLink,
)
from clientledger.billing.selectors import portal_link_resolve
from clientledger.billing.services.drafts import (
    document_delete,
    document_lines_replace,
    document_update,
    estimate_create,
    estimate_create_from_deal,
)
from clientledger.billing.services.estimates import (
    estimate_approve,
    estimate_convert,
    estimate_decline,
    estimate_mark_viewed,
    estimates_expire_due,
)
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import TaxRate
from clientledger.core.audit import timeline_entries
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.jobs.sweeps import SWEEPS
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.billing.conftest import NOW, RECIPIENTS, TODAY, line
from tests.factories import (
    AgencyFactory,
    ClientFactory,
    DealFactory,
    DealLineFactory,
    ServiceFactory,
    TaxRateFactory,
)

drain_outbox = SWEEPS["drain_outbox"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

DAY = dt.timedelta(days=1)
LATER = NOW + dt.timedelta(hours=3)
LINE_FIELDS = (
    "position",
    "service_id",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_kind",
    "discount_value",
    "tax_1_id",
    "tax_2_id",
    "recurrence",
)
FROZEN_LINE_FIELDS = (*LINE_FIELDS, "net_minor", "tax_minor", "total_minor", "tax_snapshot")
TOTAL_FIELDS = (
    "currency",
    "subtotal_minor",
    "discount_minor",
    "tax_total_minor",
    "total_minor",
    "tax_breakdown",
)


def rows(lines: Any, fields: tuple[str, ...] = LINE_FIELDS) -> list[tuple[Any, ...]]:
    return [tuple(getattr(item, name) for name in fields) for item in lines.all()]


def approve(estimate: Estimate) -> Estimate:
    return estimate_approve(estimate=estimate, name="Ada", ip="203.0.113.9", user_agent="Test/1.0")


def decline(estimate: Estimate) -> Estimate:
    return estimate_decline(estimate=estimate, reason="Over budget")


def convert(estimate: Estimate) -> Invoice:
    return estimate_convert(estimate=estimate, actor=None)


def resend(estimate: Estimate) -> Estimate:
    return estimate_send(estimate=estimate, actor=None, recipients=RECIPIENTS)


def verbs(estimate: Estimate) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_type="billing.estimate", subject_id=estimate.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


@pytest.fixture
def estimate_in(
    draft_estimate: Callable[..., Estimate], sent_estimate: Callable[..., Estimate]
) -> Callable[[str], Estimate]:
    """An estimate brought to `status` through the services."""

    def make(status: str) -> Estimate:
        if status == EstimateStatus.DRAFT:
            return draft_estimate()
        if status == EstimateStatus.EXPIRED:
            estimate = sent_estimate(valid_until=TODAY)
            estimates_expire_due(as_of=NOW + DAY)
            estimate.refresh_from_db()
            return estimate
        estimate = sent_estimate()
        if status == EstimateStatus.DECLINED:
            return decline(estimate)
        if status in (EstimateStatus.APPROVED, EstimateStatus.CONVERTED):
            estimate = approve(estimate)
        if status == EstimateStatus.CONVERTED:
            convert(estimate)
            estimate.refresh_from_db()
        return estimate

    return make


# --- drafts ---------------------------------------------------------------------------------


def test_an_estimate_from_a_deal_copies_lines_prices_taxes_discounts_and_currency_not_notes(
    agency: Agency, owner: Membership, vat: TaxRate
) -> None:
    euro_client = ClientFactory(agency=agency, currency="EUR")
    deal = DealFactory(client=euro_client, agency=agency, notes="Kick-off in May.")
    reduced = TaxRateFactory(agency=agency, name="Reduced", percent=Decimal("7"))
    DealLineFactory(
        deal=deal,
        position=0,
        service=ServiceFactory(agency=agency, name="Design sprint"),
        description="Design sprint",
        quantity=Decimal("2.5"),
        unit="day",
        unit_price=Decimal("800.00"),
        discount_kind="percent",
        discount_value=Decimal("10"),
        tax_1=vat,
    )
    DealLineFactory(
        deal=deal,
        position=1,
        description="Printed guides",
        quantity=Decimal("3"),
        unit="item",
        unit_price=Decimal("40.00"),
        discount_kind="amount",
        discount_value=Decimal("20.00"),
        tax_1=vat,
        tax_2=reduced,
        recurrence="yearly",
    )

    estimate = estimate_create_from_deal(deal=deal, actor=owner.user)

    assert rows(estimate.lines) == rows(deal.lines)
    assert (estimate.client, estimate.deal, estimate.currency, estimate.notes) == (
        euro_client,
        deal,
        "EUR",
        "",  # the deal's notes are internal; the client sees the document
    )
    assert (estimate.status, estimate.number, estimate.created_by) == ("draft", "", owner.user)
    # 2.5 d x 800 - 10 % = 1,800 + 19 % VAT; 3 x 40 - 20 = 100 + 19 % + 7 %.
    assert (estimate.discount_minor, estimate.tax_total_minor, estimate.total_minor) == (
        22_000,
        36_800,
        226_800,
    )


def test_a_draft_estimate_can_be_edited(
    draft_estimate: Callable[..., Estimate], vat: TaxRate, owner: Membership
) -> None:
    estimate = draft_estimate()
    document_update(
        document=estimate,
        actor=owner.user,
        notes="Prices include two review rounds.",
        terms="50 % upfront.",
        valid_until=dt.date(2026, 12, 31),
    )
    document_lines_replace(
        document=estimate,
        actor=owner.user,
        lines=[line("Strategy", "2", "500.00"), line("Copy", "1", "80.00", taxes=[vat])],
    )

    estimate.refresh_from_db()
    assert (estimate.notes, estimate.terms, estimate.valid_until) == (
        "Prices include two review rounds.",
        "50 % upfront.",
        dt.date(2026, 12, 31),
    )
    assert [item.description for item in estimate.lines.all()] == ["Strategy", "Copy"]
    assert estimate.total_minor == 100_000 + 9_520
    assert verbs(estimate)[-2:] == ["estimate.updated", "estimate.lines_saved"]


def test_a_draft_estimate_can_be_deleted(draft_estimate: Callable[..., Estimate]) -> None:
    estimate = draft_estimate()
    document_delete(document=estimate, actor=None)
    assert not Estimate.objects.exists()


def test_only_texts_deal_and_validity_of_a_draft_can_be_updated(
    draft_estimate: Callable[..., Estimate],
) -> None:
    estimate = draft_estimate()
    with pytest.raises(ValidationError, match="number"):
        document_update(document=estimate, actor=None, number="EST-0001")
    estimate.refresh_from_db()
    assert estimate.number == ""


def test_a_deal_of_another_client_is_refused(
    draft_estimate: Callable[..., Estimate], agency: Agency
) -> None:
    estimate = draft_estimate()
    other_deal = DealFactory(client=ClientFactory(agency=agency), agency=agency)
    with pytest.raises(ValidationError) as refused:
        document_update(document=estimate, actor=None, deal=other_deal)
    assert "deal" in refused.value.message_dict
    estimate.refresh_from_db()
    assert estimate.deal is None


# --- sending --------------------------------------------------------------------------------


def test_sending_gives_the_estimate_its_number_once_and_a_resend_keeps_it(
    draft_estimate: Callable[..., Estimate],
) -> None:
    estimate = estimate_send(estimate=draft_estimate(), actor=None, recipients=RECIPIENTS)
    assert (estimate.status, estimate.number, estimate.issue_date) == (
        "sent",
        "EST-2026-00001",
        TODAY,
    )

    again = estimate_send(estimate=estimate, actor=None, recipients=["cfo@client.example"])

    assert again.number == "EST-2026-00001"
    assert DocumentCounter.objects.get().last_value == 1
    assert EmailMessage.objects.count() == PortalLink.objects.count() == 2
    assert resend(draft_estimate()).number == "EST-2026-00002"


def test_sending_freezes_totals_and_seller_and_buyer_details(
    draft_estimate: Callable[..., Estimate], agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    estimate = resend(draft_estimate())

    agency.name, agency.tax_id = "Renamed Studio", "DE-999"
    agency.save()
    buyer.name, buyer.address_line1 = "Acme Renamed", "2 Elsewhere"
    buyer.save()
    TaxRate.objects.filter(pk=vat.pk).update(percent=Decimal("25"))

    estimate.refresh_from_db()
    data = document_data(estimate)
    assert (data["seller"]["name"], data["seller"]["tax_id"]) == ("Northwind Studio", "")
    assert (data["buyer"]["name"], data["buyer"]["address_lines"]) == (
        "Acme Corp",
        ["1 Market Street", "Springfield"],
    )
    assert data["total"] == "$1,190.00"
    assert Decimal(estimate.lines.get().tax_snapshot[0]["percent"]) == Decimal("19")


def test_sending_queues_an_email_with_the_pdf_and_a_portal_link_to_this_estimate(
    draft_estimate: Callable[..., Estimate],
) -> None:
    estimate = estimate_send(
        estimate=draft_estimate(),
        actor=None,
        recipients=[" AP@Client.example ", "ap@client.example", "cfo@client.example"],
        message="As discussed on Monday.",
    )

    [email] = EmailMessage.objects.all()
    assert email.to == ["ap@client.example", "cfo@client.example"]
    assert estimate.number in email.subject
    assert (email.attach_document_type, email.attach_document_id) == (
        "billing.estimate",
        estimate.pk,
    )
    assert "As discussed on Monday." in email_render(email).text
    found = re.search(re.escape(settings.SITE_URL) + r"/\S+", email_render(email).text)
    assert found is not None
    link = found.group()
    assert link in email_render(email).html
    token = resolve(urlsplit(link).path).kwargs["token"]
    resolved = portal_link_resolve(token)
    assert resolved is not None and resolved.estimate == estimate
    assert estimate.sent_at == NOW
    assert "estimate.sent" in verbs(estimate)


@pytest.mark.usefixtures("media_root")
def test_the_delivered_email_carries_the_estimate_pdf(
    draft_estimate: Callable[..., Estimate],
) -> None:
    estimate = resend(draft_estimate())
    assert drain_outbox(as_of=timezone.now()) == {"sent": 1}
    [(filename, content, mimetype)] = mail.outbox[0].attachments
    assert (filename, mimetype) == (f"{estimate.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


def test_valid_until_defaults_to_the_agencys_validity_period(
    draft_estimate: Callable[..., Estimate], agency: Agency
) -> None:
    agency.estimate_validity_days = 14
    agency.save()
    assert resend(draft_estimate()).valid_until == dt.date(2026, 12, 8)


def test_a_chosen_valid_until_is_kept_on_send(draft_estimate: Callable[..., Estimate]) -> None:
    estimate = resend(draft_estimate(valid_until=dt.date(2027, 1, 15)))
    assert estimate.valid_until == dt.date(2027, 1, 15)


def test_a_validity_date_in_the_past_is_refused_and_takes_no_number(
    draft_estimate: Callable[..., Estimate],
) -> None:
    estimate = draft_estimate(valid_until=TODAY - DAY)
    with pytest.raises(ValidationError) as refused:
        resend(estimate)
    assert "valid_until" in refused.value.message_dict
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == ("draft", "")
    assert not DocumentCounter.objects.exists()
    assert not EmailMessage.objects.exists()


def test_an_estimate_without_lines_cannot_be_sent(draft_estimate: Callable[..., Estimate]) -> None:
    estimate = draft_estimate(lines=[])
    with pytest.raises(ValidationError, match="at least one line"):
        resend(estimate)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == ("draft", "")
    assert not EmailMessage.objects.exists()


@pytest.mark.parametrize(
    "recipients",
    [[], ["  "], ["not-an-address"], [f"p{n}@client.example" for n in range(11)]],
    ids=["none", "blank", "invalid", "too-many"],
)
def test_bad_recipients_are_refused_before_anything_changes(
    draft_estimate: Callable[..., Estimate], recipients: list[str]
) -> None:
    estimate = draft_estimate()
    with pytest.raises(ValidationError) as refused:
        estimate_send(estimate=estimate, actor=None, recipients=recipients)
    assert "recipients" in refused.value.message_dict
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == ("draft", "")
    assert not EmailMessage.objects.exists()


def rewrite_lines(estimate: Estimate) -> None:
    document_lines_replace(document=estimate, actor=None, lines=[line("Changed")])


def rewrite_notes(estimate: Estimate) -> None:
    document_update(document=estimate, actor=None, notes="Changed")


def delete(estimate: Estimate) -> None:
    document_delete(document=estimate, actor=None)


@pytest.mark.parametrize("edit", [rewrite_lines, rewrite_notes, delete])
def test_a_sent_estimate_can_no_longer_be_edited_or_deleted(
    sent_estimate: Callable[..., Estimate], edit: Callable[[Estimate], None]
) -> None:
    estimate = sent_estimate()
    before = (estimate.notes, estimate.total_minor, rows(estimate.lines, FROZEN_LINE_FIELDS))
    with pytest.raises(ValidationError, match="sent and can no longer be changed"):
        edit(estimate)
    estimate.refresh_from_db()
    assert (
        estimate.notes,
        estimate.total_minor,
        rows(estimate.lines, FROZEN_LINE_FIELDS),
    ) == before


# --- the client's answer --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        ("draft", approve, "approved"),
        ("declined", approve, "approved"),
        ("expired", approve, "approved"),
        ("converted", approve, "approved"),
        ("draft", decline, "declined"),
        ("approved", decline, "declined"),
        ("expired", decline, "declined"),
        ("draft", convert, "converted"),
        ("sent", convert, "converted"),
        ("declined", convert, "converted"),
        ("expired", convert, "converted"),
        ("approved", resend, "sent"),
        ("declined", resend, "sent"),
        ("converted", resend, "sent"),
    ],
)
def test_a_refused_transition_says_why_and_changes_nothing(
    estimate_in: Callable[[str], Estimate],
    status: str,
    action: Callable[[Estimate], object],
    target: str,
) -> None:
    estimate = estimate_in(status)

    def state() -> tuple[object, ...]:
        estimate.refresh_from_db()
        return (
            estimate.status,
            estimate.number,
            estimate.updated_at,
            estimate.approved_at,
            estimate.declined_at,
            estimate.converted_at,
            AuditEvent.objects.count(),
            EmailMessage.objects.count(),
            Invoice.objects.count(),
        )

    before = state()
    with pytest.raises(ValidationError) as refused:
        action(estimate)
    article = "An" if status[0] in "aeiou" else "A"
    assert refused.value.messages == [f"{article} {status} estimate cannot become {target}."]
    assert state() == before


def test_approval_records_the_signers_name_time_ip_and_browser(
    sent_estimate: Callable[..., Estimate], frozen_now: Callable[[dt.datetime], None]
) -> None:
    estimate = sent_estimate()
    frozen_now(LATER)

    estimate_approve(
        estimate=estimate, name="  Ada Lovelace ", ip="203.0.113.9", user_agent="Mozilla/5.0 Test"
    )

    estimate.refresh_from_db()
    assert (
        estimate.status,
        estimate.approved_name,
        estimate.approved_ip,
        estimate.approved_user_agent,
        estimate.approved_at,
        estimate.updated_at,
    ) == ("approved", "Ada Lovelace", "203.0.113.9", "Mozilla/5.0 Test", LATER, LATER)
    event = AuditEvent.objects.get(verb="estimate.approved")
    assert event.data == {
        "name": "Ada Lovelace",
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 Test",
    }
    assert not Invoice.objects.exists()


def test_a_sent_estimate_past_its_validity_cannot_be_approved(
    sent_estimate: Callable[..., Estimate], frozen_now: Callable[[dt.datetime], None]
) -> None:
    estimate = sent_estimate(valid_until=TODAY)
    frozen_now(NOW + DAY)
    with pytest.raises(ValidationError, match="expired"):
        approve(estimate)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.approved_at) == ("sent", None)


def test_a_decline_records_the_clients_reason(
    sent_estimate: Callable[..., Estimate], frozen_now: Callable[[dt.datetime], None]
) -> None:
    estimate = sent_estimate()
    frozen_now(LATER)
    estimate_decline(estimate=estimate, reason="  Over budget this quarter. ")
    estimate.refresh_from_db()
    assert (
        estimate.status,
        estimate.declined_at,
        estimate.updated_at,
        estimate.decline_reason,
    ) == ("declined", LATER, LATER, "Over budget this quarter.")


def test_the_first_portal_view_sets_viewed_at_once(
    sent_estimate: Callable[..., Estimate], frozen_now: Callable[[dt.datetime], None]
) -> None:
    estimate = sent_estimate()
    estimate_mark_viewed(estimate=estimate)
    frozen_now(NOW + DAY)
    estimate_mark_viewed(estimate=estimate)
    estimate.refresh_from_db()
    assert estimate.viewed_at == NOW
    assert verbs(estimate).count("estimate.viewed") == 1


def test_the_author_and_the_deal_owner_are_emailed_when_the_client_approves(
    agency: Agency, owner: Membership, sales: Membership, deal: Deal, vat: TaxRate
) -> None:
    deal.owner = sales.user
    deal.save()
    estimate = estimate_create(
        agency=agency, actor=owner.user, client=deal.client, deal=deal, lines=[line(taxes=[vat])]
    )
    estimate = approve(resend(estimate))

    email = EmailMessage.objects.get(subject__contains="approved")
    assert sorted(email.to) == sorted([owner.user.email, sales.user.email])
    assert email.subject == f"Acme Corp approved {estimate.number}"
    assert "signed by Ada" in email_render(email).text
    detail = reverse("billing:estimate_detail", args=[estimate.pk])
    assert f"{settings.SITE_URL}{detail}" in email_render(email).text


def test_the_author_is_emailed_the_reason_when_the_client_declines(
    sent_estimate: Callable[..., Estimate], owner: Membership
) -> None:
    estimate = estimate_decline(estimate=sent_estimate(), reason="Over budget this quarter.")
    email = EmailMessage.objects.get(subject__contains="declined")
    assert email.to == [owner.user.email]
    assert email.subject == f"Acme Corp declined {estimate.number}"
    assert "Reason: Over budget this quarter." in email_render(email).text


def test_without_an_author_or_deal_owner_the_owners_and_admins_are_notified(
    agency: Agency,
    owner: Membership,
    admin: Membership,
    finance: Membership,
    sales: Membership,
    buyer: Client,
) -> None:
    estimate = estimate_create(agency=agency, actor=None, client=buyer, lines=[line()])
    approve(resend(estimate))
    email = EmailMessage.objects.get(subject__contains="approved")
    assert email.to == sorted([owner.user.email, admin.user.email])


# --- conversion -----------------------------------------------------------------------------


def test_converting_carries_everything_over_and_links_both_ways(
    agency: Agency,
    vat: TaxRate,
    finance: Membership,
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    euro_client = ClientFactory(agency=agency, currency="EUR")
    deal = DealFactory(client=euro_client, agency=agency)
    reduced = TaxRateFactory(agency=agency, name="Reduced", percent=Decimal("7"))
    lines = [
        line(
            "Design sprint",
            "2.5",
            "800.00",
            unit="day",
            service=ServiceFactory(agency=agency),
            discount_kind="percent",
            discount_value=Decimal("10"),
            taxes=[vat],
        ),
        line(
            "Printed guides",
            "3",
            "40.00",
            unit="item",
            discount_kind="amount",
            discount_value=Decimal("20.00"),
            taxes=[vat, reduced],
        ),
    ]
    estimate = estimate_create(
        agency=agency,
        actor=None,
        client=euro_client,
        deal=deal,
        lines=lines,
        notes="Thank you!",
        terms="Net 14.",
    )
    estimate = approve(resend(estimate))
    frozen_now(LATER)

    invoice = estimate_convert(estimate=estimate, actor=finance.user)

    estimate.refresh_from_db()
    assert rows(invoice.lines, FROZEN_LINE_FIELDS) == rows(estimate.lines, FROZEN_LINE_FIELDS)
    assert [getattr(invoice, name) for name in TOTAL_FIELDS] == [
        getattr(estimate, name) for name in TOTAL_FIELDS
    ]
    assert (invoice.client, invoice.deal, invoice.notes, invoice.terms) == (
        euro_client,
        deal,
        "Thank you!",
        "Net 14.",
    )
    assert (invoice.status, invoice.number, invoice.created_by) == ("draft", "", finance.user)
    assert invoice.estimate == estimate and estimate.invoice == invoice
    assert (estimate.status, estimate.converted_at, estimate.updated_at) == (
        "converted",
        LATER,
        LATER,
    )


def test_an_estimate_is_converted_only_once(sent_estimate: Callable[..., Estimate]) -> None:
    estimate = approve(sent_estimate())
    convert(estimate)
    with pytest.raises(ValidationError, match="converted estimate cannot become converted"):
        convert(estimate)
    assert Invoice.objects.count() == 1


def test_the_database_refuses_a_second_invoice_for_one_estimate(
    sent_estimate: Callable[..., Estimate],
) -> None:
    estimate = approve(sent_estimate())
    invoice = convert(estimate)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            agency=invoice.agency, client=invoice.client, currency="USD", estimate=estimate
        )


def test_auto_convert_turns_an_approval_into_a_draft_invoice_at_once(
    agency: Agency, sent_estimate: Callable[..., Estimate]
) -> None:
    agency.auto_convert_approved_estimates = True
    agency.save()
    estimate = sent_estimate()

    approved = approve(estimate)

    invoice = Invoice.objects.get(estimate=estimate)
    assert approved.status == EstimateStatus.CONVERTED
    assert (invoice.status, invoice.total_minor) == ("draft", estimate.total_minor)
    assert verbs(estimate)[-2:] == ["estimate.approved", "estimate.converted"]


def deal_estimate(deal: Deal, vat: TaxRate, stage: str = DealStage.PROPOSAL) -> Estimate:
    deal.stage = stage
    deal.save()
    return resend(
        estimate_create(
            agency=deal.agency, actor=None, client=deal.client, deal=deal, lines=[line(taxes=[vat])]
        )
    )


def test_the_clients_approval_wins_the_deal_and_the_history_says_why(
    deal: Deal, vat: TaxRate
) -> None:
    estimate = approve(deal_estimate(deal, vat))

    deal.refresh_from_db()
    assert deal.stage == DealStage.WON
    event = AuditEvent.objects.get(verb="deal.stage_changed")
    assert (event.subject_id, event.actor, event.client_id) == (deal.pk, None, deal.client_id)
    assert event.data == {"from": "proposal", "to": "won", "estimate": estimate.number}
    [entry] = timeline_entries([event])
    assert entry.sentence == (
        f"moved deal “Website relaunch” from Proposal to Won: estimate {estimate.number} was "
        "approved"
    )


def test_an_agency_can_leave_its_deals_where_they_are_on_approval(
    agency: Agency, deal: Deal, vat: TaxRate
) -> None:
    agency.approval_wins_deal = False
    agency.save()

    approve(deal_estimate(deal, vat))

    deal.refresh_from_db()
    assert deal.stage == DealStage.PROPOSAL
    assert not AuditEvent.objects.filter(verb="deal.stage_changed").exists()


def test_winning_on_approval_is_on_for_a_new_agency() -> None:
    assert AgencyFactory().approval_wins_deal is True


def test_a_deal_already_won_is_not_moved_again(deal: Deal, vat: TaxRate) -> None:
    approve(deal_estimate(deal, vat, stage=DealStage.WON))

    assert not AuditEvent.objects.filter(verb="deal.stage_changed").exists()


# --- expiry ---------------------------------------------------------------------------------


def test_the_expiry_sweep_expires_only_sent_estimates_past_their_validity(
    sent_estimate: Callable[..., Estimate],
    draft_estimate: Callable[..., Estimate],
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    lapsed = sent_estimate(valid_until=TODAY)
    still_valid = sent_estimate(valid_until=TODAY + DAY)
    draft = draft_estimate(valid_until=TODAY)
    approved = approve(sent_estimate(valid_until=TODAY))

    assert estimates_expire_due(as_of=NOW) == {}
    frozen_now(NOW + DAY)
    assert estimates_expire_due(as_of=NOW + DAY) == {"expired": 1}
    assert estimates_expire_due(as_of=NOW + DAY) == {}

    statuses = {
        estimate.pk: estimate.status
        for estimate in Estimate.objects.filter(
            pk__in=[lapsed.pk, still_valid.pk, draft.pk, approved.pk]
        )
    }
    assert [statuses[e.pk] for e in (lapsed, still_valid, draft, approved)] == [
        "expired",
        "sent",
        "draft",
        "approved",
    ]
    assert verbs(lapsed)[-1] == "estimate.expired"
    lapsed.refresh_from_db()
    assert lapsed.updated_at == NOW + DAY


def sent_estimate_of(agency: Agency, valid_until: dt.date) -> Estimate:
    client = ClientFactory(agency=agency)
    draft = estimate_create(
        agency=agency, actor=None, client=client, lines=[line()], valid_until=valid_until
    )
    return resend(draft)


def test_expiry_follows_each_agencys_calendar_not_utc() -> None:
    # NOW is Nov 25 01:00 in Auckland (UTC+13) and Nov 24 02:00 in Honolulu (UTC-10).
    valid_until = dt.date(2026, 11, 25)
    auckland = sent_estimate_of(AgencyFactory(timezone="Pacific/Auckland"), valid_until)
    honolulu = sent_estimate_of(AgencyFactory(timezone="Pacific/Honolulu"), valid_until)

    def status(estimate: Estimate) -> str:
        estimate.refresh_from_db()
        return estimate.status

    # Nov 25 11:30 UTC: already Nov 26 in Auckland, still Nov 25 in Honolulu.
    estimates_expire_due(as_of=dt.datetime(2026, 11, 25, 11, 30, tzinfo=dt.UTC))
    assert (status(auckland), status(honolulu)) == ("expired", "sent")
    # Nov 26 05:00 UTC is past the date in UTC, but still Nov 25 19:00 in Honolulu.
    estimates_expire_due(as_of=dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC))
    assert status(honolulu) == "sent"
    estimates_expire_due(as_of=dt.datetime(2026, 11, 26, 10, 30, tzinfo=dt.UTC))
    assert status(honolulu) == "expired"
