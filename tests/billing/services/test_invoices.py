"""Invoice services: issuing (number, dates, snapshots, ledger), immutability, voiding, bad
lines, rollback after the number is taken, and the PDF stored once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.documents import build
from clientledger.billing.documents.build import document_pdf
from clientledger.billing.documents.data import document_data
from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import (
    DocumentCounter,
    Estimate,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    LedgerEntryKind,
    PortalLink,
)
from clientledger.billing.services import invoices as invoice_services
from clientledger.billing.services import sending as sending_services
from clientledger.billing.services.drafts import (
    document_delete,
    document_lines_replace,
    document_update,
    invoice_create,
)
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.billing.services.ledger import ledger_append
from clientledger.billing.services.sending import estimate_send, invoice_send
from clientledger.catalog.models import TaxRate
from clientledger.core.models import AuditEvent
from clientledger.core.money import MAX_BALANCE_MINOR
from clientledger.crm.models import Client
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.notifications.models import EmailMessage
from tests.billing.conftest import NOW, RECIPIENTS, TODAY, line
from tests.factories import AgencyFactory, ClientFactory, DealFactory, TaxRateFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

DAY = dt.timedelta(days=1)


def issue(invoice: Invoice, **dates: dt.date) -> Invoice:
    return invoice_issue(invoice=invoice, actor=None, **dates)


def counter_value() -> int:
    return sum(DocumentCounter.objects.values_list("last_value", flat=True))


def frozen_state(invoice: Invoice) -> tuple[Any, ...]:
    """Everything an issued invoice must keep, read back from the database."""
    invoice.refresh_from_db()
    lines = list(
        InvoiceLine.objects.filter(invoice=invoice).values_list(
            "description", "quantity", "unit_price", "total_minor", "tax_snapshot"
        )
    )
    return (
        invoice.status,
        invoice.number,
        invoice.notes,
        invoice.deal_id,
        invoice.issue_date,
        invoice.due_date,
        invoice.total_minor,
        invoice.seller_snapshot,
        invoice.buyer_snapshot,
        invoice.updated_at,
        lines,
        counter_value(),
        LedgerEntry.objects.count(),
    )


# --- issuing ------------------------------------------------------------------------------


def test_issuing_numbers_dates_and_posts_the_invoice(
    draft_invoice: Callable[..., Invoice], buyer: Client
) -> None:
    invoice = issue(draft_invoice())

    assert (invoice.status, invoice.number) == (InvoiceStatus.OPEN, "INV-2026-00001")
    assert (invoice.issue_date, invoice.due_date, invoice.issued_at) == (
        TODAY,
        TODAY + 30 * DAY,
        NOW,
    )
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount_minor, entry.document_reference, entry.client_id) == (
        LedgerEntryKind.INVOICE_ISSUED,
        119_000,
        "INV-2026-00001",
        buyer.pk,
    )
    buyer.refresh_from_db()
    assert buyer.balance_minor == 119_000
    assert ledger_mismatches() == []
    assert AuditEvent.objects.filter(verb="invoice.issued", subject_id=invoice.pk).exists()
    assert issue(draft_invoice()).number == "INV-2026-00002"


@pytest.mark.parametrize(
    ("moment", "issued_on", "number"),
    [
        # Nov 24 23:30 UTC is already Nov 25 in Auckland (UTC+13).
        (dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC), dt.date(2026, 11, 25), "INV-2026-00001"),
        # New Year's Eve noon UTC is already the new year there: a new yearly series.
        (dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC), dt.date(2027, 1, 1), "INV-2027-00001"),
    ],
)
def test_the_issue_date_and_number_follow_the_agencys_calendar(
    frozen_now: Callable[[dt.datetime], None],
    moment: dt.datetime,
    issued_on: dt.date,
    number: str,
) -> None:
    agency = AgencyFactory(timezone="Pacific/Auckland")
    client = ClientFactory(agency=agency)
    frozen_now(moment)
    invoice = issue(invoice_create(agency=agency, actor=None, client=client, lines=[line()]))
    assert (invoice.issue_date, invoice.number) == (issued_on, number)


@pytest.mark.parametrize(("client_terms", "days"), [(None, 45), (14, 14), (0, 0)])
def test_the_due_date_follows_the_clients_terms_or_else_the_agencys(
    draft_invoice: Callable[..., Invoice],
    agency: Agency,
    buyer: Client,
    client_terms: int | None,
    days: int,
) -> None:
    agency.default_payment_terms_days = 45
    agency.save()
    buyer.payment_terms_days = client_terms
    buyer.save()
    assert issue(draft_invoice()).due_date == TODAY + days * DAY


def test_chosen_issue_and_due_dates_are_kept(draft_invoice: Callable[..., Invoice]) -> None:
    invoice = issue(draft_invoice(), issue_date=dt.date(2026, 11, 20), due_date=dt.date(2027, 1, 4))
    assert (invoice.issue_date, invoice.due_date) == (dt.date(2026, 11, 20), dt.date(2027, 1, 4))


def test_later_changes_to_the_agency_client_or_tax_rates_never_reach_an_issued_invoice(
    draft_invoice: Callable[..., Invoice], agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    invoice = issue(draft_invoice())
    before = frozen_state(invoice)

    agency.name, agency.legal_address, agency.payment_instructions = "Renamed", "New St", "IBAN X"
    agency.save()
    buyer.name, buyer.address_line1, buyer.tax_id = "Acme Renamed", "2 Elsewhere", "US-999"
    buyer.save()
    TaxRate.objects.filter(pk=vat.pk).update(percent=Decimal("25"))

    assert frozen_state(invoice) == before
    data = document_data(invoice)
    assert (data["seller"]["name"], data["payment_instructions"]) == ("Northwind Studio", "")
    assert (data["buyer"]["name"], data["buyer"]["address_lines"], data["buyer"]["tax_id"]) == (
        "Acme Corp",
        ["1 Market Street", "Springfield"],
        "US-123",
    )
    assert (data["total"], data["balance_due"]) == ("$1,190.00", "$1,190.00")


def test_an_empty_invoice_is_refused_and_takes_no_number(
    draft_invoice: Callable[..., Invoice], vat: TaxRate
) -> None:
    invoice = draft_invoice(lines=[])
    with pytest.raises(ValidationError, match="at least one line"):
        issue(invoice)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, counter_value()) == ("draft", "", 0)
    assert not LedgerEntry.objects.exists()

    document_lines_replace(document=invoice, actor=None, lines=[line(taxes=[vat])])
    assert issue(invoice).number == "INV-2026-00001"


def test_a_draft_whose_lines_cannot_be_priced_is_refused_with_the_reason_and_takes_no_number(
    draft_invoice: Callable[..., Invoice], vat: TaxRate
) -> None:
    invoice = draft_invoice()
    # Written around the catalog service, as a database edit or an old release would.
    TaxRate.objects.filter(pk=vat.pk).update(is_compound=True)

    with pytest.raises(ValidationError) as refused:
        issue(invoice)

    assert refused.value.messages == [
        "This invoice cannot be priced: line 1: VAT is compound, so it can only be the second "
        "tax of a line. Change the taxes of that line."
    ]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, counter_value()) == ("draft", "", 0)


def test_a_due_date_before_the_issue_date_is_refused_and_takes_no_number(
    draft_invoice: Callable[..., Invoice],
) -> None:
    invoice = draft_invoice()
    with pytest.raises(ValidationError) as refused:
        issue(invoice, issue_date=TODAY, due_date=TODAY - DAY)
    assert "due_date" in refused.value.message_dict
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.due_date, counter_value()) == (
        "draft",
        "",
        None,
        0,
    )
    assert not LedgerEntry.objects.exists()
    assert issue(invoice).number == "INV-2026-00001"


def test_a_draft_whose_tax_rate_grew_past_the_bound_is_refused_at_issue_and_takes_no_number(
    draft_invoice: Callable[..., Invoice], vat: TaxRate
) -> None:
    # 600,000,000,000.00 plus 19% is within the bound; with the rate raised to 100% it is not.
    invoice = draft_invoice(lines=[line(quantity="1", unit_price="600000000000", taxes=[vat])])
    vat.percent = Decimal(100)
    vat.save()
    with pytest.raises(LinesInvalid) as refused:
        issue(invoice)
    assert refused.value.message_dict == {
        "lines[0].unit_price": [
            "This line comes to $1,200,000,000,000.00; "
            "a line must stay below $1,000,000,000,000.00."
        ]
    }
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, counter_value()) == ("draft", "", 0)
    assert not LedgerEntry.objects.exists()


def test_an_invoice_cannot_take_the_clients_balance_past_its_bound(
    draft_invoice: Callable[..., Invoice], buyer: Client
) -> None:
    invoice = draft_invoice()
    ledger_append(
        client=buyer,
        kind=LedgerEntryKind.INVOICE_ISSUED,
        document=buyer,
        document_reference="Earlier invoices",
        amount_minor=MAX_BALANCE_MINOR - 100_000,
        currency="USD",
        occurred_at=NOW,
    )
    with pytest.raises(ValidationError, match=r"past \$1,000,000,000,000,000\.00"):
        issue(invoice)
    invoice.refresh_from_db()
    buyer.refresh_from_db()
    assert (invoice.status, invoice.number, counter_value()) == ("draft", "", 0)
    assert buyer.balance_minor == MAX_BALANCE_MINOR - 100_000
    assert LedgerEntry.objects.count() == 1


# --- immutability -------------------------------------------------------------------------


def update_notes(invoice: Invoice) -> object:
    return document_update(document=invoice, actor=None, notes="Changed afterwards")


def move_to_another_deal(invoice: Invoice) -> object:
    deal = DealFactory(client=invoice.client, agency=invoice.agency)
    return document_update(document=invoice, actor=None, deal=deal)


def replace_lines(invoice: Invoice) -> object:
    return document_lines_replace(document=invoice, actor=None, lines=[line("Cheaper", "1", "1")])


def delete(invoice: Invoice) -> None:
    document_delete(document=invoice, actor=None)


def issue_again(invoice: Invoice) -> object:
    return issue(invoice)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (update_notes, "This invoice is open and can no longer be changed."),
        (move_to_another_deal, "This invoice is open and can no longer be changed."),
        (replace_lines, "This invoice is open and can no longer be changed."),
        (delete, "This invoice is open and can no longer be changed."),
        (issue_again, "An open invoice cannot become open."),
    ],
)
def test_no_service_can_change_an_issued_invoice(
    draft_invoice: Callable[..., Invoice], edit: Callable[[Invoice], object], message: str
) -> None:
    invoice = issue(draft_invoice())
    before = frozen_state(invoice)
    with pytest.raises(ValidationError) as refused:
        edit(invoice)
    assert refused.value.messages == [message]
    assert frozen_state(invoice) == before


def test_valid_until_cannot_be_set_on_an_invoice(draft_invoice: Callable[..., Invoice]) -> None:
    with pytest.raises(ValidationError, match="cannot be edited: valid_until"):
        document_update(document=draft_invoice(), actor=None, valid_until=TODAY)


def test_a_draft_invoice_can_still_be_edited_and_deleted(
    draft_invoice: Callable[..., Invoice],
) -> None:
    invoice = draft_invoice()
    document_update(document=invoice, actor=None, notes="Thanks!")
    replace_lines(invoice)
    invoice.refresh_from_db()
    assert (invoice.notes, invoice.total_minor) == ("Thanks!", 100)
    document_delete(document=invoice, actor=None)
    assert not Invoice.objects.exists()


# --- sending and voiding ------------------------------------------------------------------


def test_only_an_issued_invoice_can_be_sent(draft_invoice: Callable[..., Invoice]) -> None:
    invoice = draft_invoice()
    with pytest.raises(ValidationError, match="issue it first"):
        invoice_send(invoice=invoice, actor=None, recipients=RECIPIENTS)
    assert not EmailMessage.objects.exists()

    invoice = invoice_send(invoice=issue(invoice), actor=None, recipients=RECIPIENTS)
    [email] = EmailMessage.objects.all()
    assert (email.attach_document_type, email.attach_document_id) == ("billing.invoice", invoice.pk)
    assert invoice.number in email.subject
    assert invoice.sent_at == NOW


def test_voiding_an_open_invoice_reverses_its_ledger_entry(
    draft_invoice: Callable[..., Invoice], buyer: Client
) -> None:
    invoice = issue(draft_invoice())

    invoice_void(invoice=invoice, actor=None, reason="  Billed twice. ")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.voided_at, invoice.void_reason, invoice.number) == (
        InvoiceStatus.VOID,
        NOW,
        "Billed twice.",
        "INV-2026-00001",
    )
    assert list(LedgerEntry.objects.values_list("kind", "amount_minor")) == [
        (LedgerEntryKind.INVOICE_ISSUED, 119_000),
        (LedgerEntryKind.INVOICE_VOIDED, -119_000),
    ]
    buyer.refresh_from_db()
    assert buyer.balance_minor == 0
    assert ledger_mismatches() == []
    event = AuditEvent.objects.get(verb="invoice.voided")
    assert event.data == {"reason": "Billed twice."}


@pytest.mark.parametrize(
    "paid_field",
    [
        "amount_paid_minor",
        # Credit with no credit note behind it: reconcile would rightly report it.
        pytest.param("amount_credited_minor", marks=pytest.mark.ledger_tampered),
    ],
)
def test_an_invoice_with_a_payment_or_credit_cannot_be_voided(
    draft_invoice: Callable[..., Invoice], paid_field: str
) -> None:
    invoice = issue(draft_invoice())
    Invoice.objects.filter(pk=invoice.pk).update(**{paid_field: 1})
    before = frozen_state(invoice)
    with pytest.raises(ValidationError, match="credit note"):
        invoice_void(invoice=invoice, actor=None, reason="Mistake")
    assert frozen_state(invoice) == before


def test_a_void_needs_a_reason(draft_invoice: Callable[..., Invoice]) -> None:
    invoice = issue(draft_invoice())
    with pytest.raises(ValidationError) as refused:
        invoice_void(invoice=invoice, actor=None, reason="   ")
    assert "reason" in refused.value.message_dict
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


def test_only_an_open_invoice_can_be_voided(draft_invoice: Callable[..., Invoice]) -> None:
    draft = draft_invoice()
    with pytest.raises(ValidationError, match="A draft invoice cannot become void"):
        invoice_void(invoice=draft, actor=None, reason="Mistake")
    voided = invoice_void(invoice=issue(draft_invoice()), actor=None, reason="Mistake")
    with pytest.raises(ValidationError, match="A void invoice cannot become void"):
        invoice_void(invoice=voided, actor=None, reason="Again")
    assert LedgerEntry.objects.count() == 2


# --- bad lines ----------------------------------------------------------------------------


def archived_rate(agency: Agency) -> TaxRate:
    return TaxRateFactory(agency=agency, name="Old VAT", archived_at=NOW)


def foreign_rate(agency: Agency) -> TaxRate:
    return TaxRateFactory(agency=AgencyFactory(), name="Their VAT")


@pytest.mark.parametrize(
    ("bad_line", "field", "message"),
    [
        (lambda agency: line(description="   "), "description", "Enter a description."),
        (lambda agency: line(quantity="0"), "quantity", "greater than"),
        (lambda agency: line(quantity="-2"), "quantity", "greater than"),
        (lambda agency: line(unit_price="-1"), "unit_price", "greater than or equal to 0"),
        (
            lambda agency: line(taxes=[foreign_rate(agency)]),
            "taxes",
            "Choose tax rates of your agency.",
        ),
        (lambda agency: line(taxes=[archived_rate(agency)]), "taxes", "is archived"),
        (
            lambda agency: line(discount_kind="percent", discount_value=Decimal("120")),
            "discount_value",
            "between 0 and 100",
        ),
    ],
    ids=[
        "no-description",
        "zero-quantity",
        "negative-quantity",
        "negative-price",
        "foreign-tax",
        "archived-tax",
        "discount-over-100",
    ],
)
def test_a_bad_line_is_refused_naming_its_field_and_nothing_is_saved(
    agency: Agency,
    buyer: Client,
    draft_invoice: Callable[..., Invoice],
    bad_line: Callable[[Agency], LineData],
    field: str,
    message: str,
) -> None:
    lines = [line("A good line"), bad_line(agency)]
    with pytest.raises(LinesInvalid) as on_create:
        invoice_create(agency=agency, actor=None, client=buyer, lines=lines)
    assert on_create.value.line_errors[0] == {}
    assert list(on_create.value.line_errors[1]) == [field]
    assert message in on_create.value.line_errors[1][field]
    assert f"lines[1].{field}" in on_create.value.message_dict
    assert not Invoice.objects.exists()

    invoice = draft_invoice()
    before = frozen_state(invoice)
    with pytest.raises(LinesInvalid):
        document_lines_replace(document=invoice, actor=None, lines=lines)
    assert frozen_state(invoice) == before


# --- rollback after the number is taken -----------------------------------------------------


def fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected failure")


def test_a_failure_after_the_invoice_number_is_taken_rolls_everything_back(
    draft_invoice: Callable[..., Invoice], monkeypatch: pytest.MonkeyPatch, media_root: Path
) -> None:
    invoice = draft_invoice()

    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="injected failure"):
        patch.setattr(invoice_services, "ledger_append", fail)
        issue(invoice)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.issued_at, invoice.seller_snapshot) == (
        "draft",
        "",
        None,
        {},
    )
    assert (invoice.pdf.name, counter_value()) == ("", 0)
    assert not LedgerEntry.objects.exists()
    assert not EmailMessage.objects.exists()
    assert not AuditEvent.objects.filter(verb="invoice.issued").exists()
    assert not media_root.exists() or not any(media_root.rglob("*.pdf"))
    assert issue(invoice).number == "INV-2026-00001"


def test_a_failure_after_the_estimate_email_is_queued_rolls_everything_back(
    draft_estimate: Callable[..., Estimate], monkeypatch: pytest.MonkeyPatch
) -> None:
    estimate = draft_estimate()
    audit_record = sending_services.audit_record

    def fail_when_sent(**kwargs: Any) -> object:
        if kwargs["verb"] == "estimate.sent":
            raise RuntimeError("injected failure")
        return audit_record(**kwargs)

    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="injected failure"):
        patch.setattr(sending_services, "audit_record", fail_when_sent)
        estimate_send(estimate=estimate, actor=None, recipients=RECIPIENTS)

    estimate.refresh_from_db()
    assert (estimate.status, estimate.number, estimate.sent_at, counter_value()) == (
        "draft",
        "",
        None,
        0,
    )
    assert not EmailMessage.objects.exists()
    assert not PortalLink.objects.exists()
    sent = estimate_send(estimate=estimate, actor=None, recipients=RECIPIENTS)
    assert sent.number == "EST-2026-00001"


# --- the PDF ------------------------------------------------------------------------------


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every document the real renderer is asked for, in order."""
    seen: list[dict[str, Any]] = []
    render = build.render_document_pdf

    def counting(data: dict[str, Any]) -> bytes:
        seen.append(data)
        return render(data)

    monkeypatch.setattr(build, "render_document_pdf", counting)
    return seen


@pytest.mark.usefixtures("media_root")
def test_an_issued_invoices_pdf_is_rendered_once_and_then_served_from_storage(
    draft_invoice: Callable[..., Invoice], agency: Agency, renders: list[dict[str, Any]]
) -> None:
    invoice = issue(draft_invoice())

    first = document_pdf(invoice)
    agency.name = "Renamed Studio"
    agency.save()
    second = document_pdf(Invoice.objects.get(pk=invoice.pk))

    assert first.startswith(b"%PDF") and second == first
    assert len(renders) == 1
    invoice.refresh_from_db()
    assert invoice.pdf.name is not None
    assert invoice.pdf.name.endswith("INV-2026-00001.pdf")


@pytest.mark.usefixtures("media_root")
def test_a_draft_pdf_is_a_preview_that_is_never_stored(
    draft_invoice: Callable[..., Invoice], renders: list[dict[str, Any]]
) -> None:
    invoice = draft_invoice()
    assert document_pdf(invoice).startswith(b"%PDF")
    document_pdf(invoice)
    invoice.refresh_from_db()
    assert (len(renders), invoice.pdf.name) == (2, "")


@pytest.mark.usefixtures("media_root")
def test_a_sixty_line_invoice_flows_onto_several_pages(
    draft_invoice: Callable[..., Invoice], vat: TaxRate
) -> None:
    lines = [line(f"Sprint {n}: design and build", "8", "95.00", taxes=[vat]) for n in range(60)]
    invoice = issue(draft_invoice(lines=lines))

    pdf = document_pdf(invoice)

    assert len(document_data(invoice)["lines"]) == 60
    assert page_count(pdf) >= 2
    assert invoice.total_minor == 60 * 8 * 9_500 * 119 // 100
