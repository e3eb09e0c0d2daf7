"""Credit notes: drafted from an issued invoice, never crediting more than is left, issued
with their own gapless number and a negative ledger entry, and settled on the invoice."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import credit_mismatches, ledger_mismatches
from clientledger.billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteStatus,
    CreditSettlement,
    DocumentCounter,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    LedgerEntryKind,
    invoice_is_fully_credited,
)
from clientledger.billing.selectors.credits import (
    CreditNoteCredit,
    credit_note_credit,
    credit_note_remaining_minor,
    invoice_creditable,
)
from clientledger.billing.services import credit_notes as credit_note_services
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
    credit_note_lines_replace,
    invoice_credit_lines,
)
from clientledger.billing.services.credit_spending import (
    credit_note_apply,
    credit_note_settlement_change,
)
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.catalog.models import TaxRate
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.billing.conftest import RECIPIENTS, line
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued_invoice(
    draft_invoice: Callable[..., Invoice], vat: TaxRate, frozen_now: object
) -> Callable[..., Invoice]:
    """An issued invoice: by default design 10 h at 100.00 and hosting 1 at 200.00, both at
    19 % VAT (1,428.00)."""

    def make(lines: list[LineData] | None = None) -> Invoice:
        default = [line(taxes=[vat]), line("Hosting", "1", "200.00", taxes=[vat])]
        return invoice_issue(invoice=draft_invoice(lines or default), actor=None)

    return make


def full_credit(invoice: Invoice, **fields: Any) -> CreditNote:
    """The two clicks: "Credit note" on the invoice, then "Issue"."""
    draft = credit_note_create(invoice=invoice, actor=None, reason="Cancelled project", **fields)
    return credit_note_issue(credit_note=draft, actor=None)


def credit_line(invoice: Invoice, position: int, quantity: str, unit_price: str) -> CreditLine:
    original = invoice.lines.order_by("position")[position]
    return CreditLine(
        data=LineData(
            description=original.description,
            quantity=Decimal(quantity),
            unit_price=Decimal(unit_price),
        ),
        invoice_line_id=original.pk,
    )


def invoice_state(invoice: Invoice) -> tuple[str, int, int]:
    invoice.refresh_from_db()
    return invoice.status, invoice.amount_credited_minor, invoice.balance_due_minor


def nothing_changed_snapshot(invoice: Invoice) -> tuple[Any, ...]:
    invoice.refresh_from_db()
    return (
        invoice.status,
        invoice.amount_credited_minor,
        CreditNote.objects.filter(status=CreditNoteStatus.ISSUED).count(),
        CreditApplication.objects.count(),
        LedgerEntry.objects.count(),
        EmailMessage.objects.count(),
    )


def test_a_full_credit_takes_two_steps_and_credits_the_whole_invoice(
    issued_invoice: Callable[..., Invoice], buyer: Client
) -> None:
    invoice = issued_invoice()

    credit_note = full_credit(invoice)

    assert credit_note.status == CreditNoteStatus.ISSUED
    assert credit_note.number == "CN-2026-00001"
    assert (credit_note.total_minor, credit_note.tax_total_minor) == (142800, 22800)
    assert invoice_state(invoice) == (InvoiceStatus.PAID, 142800, 0)
    assert invoice_is_fully_credited(invoice)
    entry = LedgerEntry.objects.get(kind=LedgerEntryKind.CREDIT_NOTE_ISSUED)
    assert (entry.amount_minor, entry.document_reference) == (-142800, "CN-2026-00001")
    buyer.refresh_from_db()
    assert buyer.balance_minor == 0
    assert credit_note_remaining_minor(credit_note) == 0
    assert ledger_mismatches() == [] and credit_mismatches() == []


def test_the_draft_copies_the_invoice_lines_with_their_taxes_and_freezes_snapshots_at_issue(
    issued_invoice: Callable[..., Invoice], vat: TaxRate
) -> None:
    invoice = issued_invoice()

    draft = credit_note_create(invoice=invoice, actor=None, reason="Dispute")
    issued = credit_note_issue(credit_note=draft, actor=None)

    lines = list(issued.lines.order_by("position"))
    originals = list(invoice.lines.order_by("position"))
    assert [(cl.invoice_line_id, cl.tax_1_id, cl.total_minor) for cl in lines] == [
        (ol.pk, vat.pk, ol.total_minor) for ol in originals
    ]
    assert [cl.tax_snapshot for cl in lines] == [ol.tax_snapshot for ol in originals]
    assert issued.seller_snapshot["name"] == invoice.agency.name
    assert issued.buyer_snapshot["name"] == invoice.client.name
    assert issued.issue_date is not None and issued.issued_at is not None


def test_a_reduced_line_reverses_the_tax_at_the_invoice_rate(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()

    draft = credit_note_create(
        invoice=invoice,
        actor=None,
        reason="Two hours were not worked",
        lines=[credit_line(invoice, 0, "2", "100.00")],
    )
    issued = credit_note_issue(credit_note=draft, actor=None)

    assert (issued.subtotal_minor, issued.tax_total_minor, issued.total_minor) == (
        20000,
        3800,
        23800,
    )
    assert invoice_state(invoice) == (InvoiceStatus.OPEN, 23800, 142800 - 23800)
    assert not invoice_is_fully_credited(invoice)


def test_a_free_adjustment_line_credits_against_the_invoice_total(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    goodwill = CreditLine(data=line("Goodwill discount for March", "1", "50.00"))

    issued = credit_note_issue(
        credit_note=credit_note_create(
            invoice=invoice, actor=None, reason="Goodwill", lines=[goodwill]
        ),
        actor=None,
    )

    assert issued.total_minor == 5000
    assert issued.lines.get().invoice_line_id is None


def test_earlier_credit_notes_count_against_what_is_creditable_per_line_and_in_total(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    credit_note_issue(
        credit_note=credit_note_create(
            invoice=invoice,
            actor=None,
            reason="Partial",
            lines=[credit_line(invoice, 0, "8", "100.00")],
        ),
        actor=None,
    )

    creditable = invoice_creditable(invoice)
    design, hosting = invoice.lines.order_by("position")
    assert creditable.total_minor == 142800 - 95200
    assert creditable.lines_minor == {design.pk: 23800, hosting.pk: 23800}
    # Only the untouched line is offered again for a full credit.
    assert [entry.invoice_line_id for entry in invoice_credit_lines(invoice)] == [hosting.pk]

    with pytest.raises(LinesInvalid) as refused:
        credit_note_create(
            invoice=invoice,
            actor=None,
            reason="Too much",
            lines=[credit_line(invoice, 0, "3", "100.00")],
        )
    assert "still creditable" in refused.value.line_errors[0]["quantity"]


def test_a_draft_that_became_too_large_is_refused_at_issue_and_takes_no_number(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    first = credit_note_create(invoice=invoice, actor=None, reason="One")
    second = credit_note_create(invoice=invoice, actor=None, reason="Two")
    credit_note_issue(credit_note=first, actor=None)

    with pytest.raises(LinesInvalid) as refused:
        credit_note_issue(credit_note=second, actor=None)

    assert "still creditable" in " ".join(refused.value.total_errors)
    second.refresh_from_db()
    assert (second.status, second.number) == (CreditNoteStatus.DRAFT, "")
    assert DocumentCounter.objects.get(series="credit_note").last_value == 1


def test_a_free_line_beyond_the_invoice_total_is_refused_with_the_amount_left(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    with pytest.raises(LinesInvalid) as refused:
        credit_note_create(
            invoice=invoice,
            actor=None,
            reason="Everything and more",
            lines=[CreditLine(data=line("Goodwill", "1", "2000.00"))],
        )
    assert refused.value.total_errors == [
        "This credit note comes to $2,000.00, but only $1,428.00 of invoice "
        f"{invoice.number} is still creditable."
    ]
    assert not CreditNote.objects.exists()


def test_a_draft_or_void_invoice_cannot_be_credited(
    draft_invoice: Callable[..., Invoice], issued_invoice: Callable[..., Invoice]
) -> None:
    with pytest.raises(ValidationError, match="is a draft"):
        credit_note_create(invoice=draft_invoice(), actor=None, reason="Early")
    void = invoice_void(invoice=issued_invoice(), actor=None, reason="Billed twice")
    with pytest.raises(ValidationError, match="is void and cannot be credited"):
        credit_note_create(invoice=void, actor=None, reason="Late")
    assert not CreditNote.objects.exists()


def test_a_line_of_another_invoice_is_refused_on_that_line(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice, other = issued_invoice(), issued_invoice()
    stranger = credit_line(other, 0, "1", "100.00")

    with pytest.raises(LinesInvalid) as refused:
        credit_note_create(invoice=invoice, actor=None, reason="Mixed up", lines=[stranger])

    assert refused.value.line_errors == [
        {"invoice_line": f"This line is not on invoice {invoice.number}."}
    ]
    assert not CreditNote.objects.exists()


def test_a_currency_other_than_the_invoices_is_refused(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    with pytest.raises(ValidationError) as refused:
        credit_note_create(invoice=invoice, actor=None, reason="Euro", currency="EUR")
    assert refused.value.message_dict == {
        "currency": [f"Invoice {invoice.number} is in USD, not in EUR."]
    }


def test_a_reason_is_required(issued_invoice: Callable[..., Invoice]) -> None:
    with pytest.raises(ValidationError) as refused:
        credit_note_create(invoice=issued_invoice(), actor=None, reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why this credit note is issued."]}


def test_an_issued_credit_note_cannot_be_edited_or_issued_again(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    issued = full_credit(invoice)
    with pytest.raises(ValidationError, match="can no longer be changed"):
        credit_note_lines_replace(
            credit_note=issued, actor=None, lines=[credit_line(invoice, 0, "1", "1.00")]
        )
    with pytest.raises(ValidationError, match="An issued credit note cannot become issued"):
        credit_note_issue(credit_note=issued, actor=None)
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.CREDIT_NOTE_ISSUED).count() == 1


def test_a_failure_after_the_number_is_taken_rolls_everything_back(
    issued_invoice: Callable[..., Invoice], monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = issued_invoice()
    draft = credit_note_create(invoice=invoice, actor=None, reason="Dispute")
    before = nothing_changed_snapshot(invoice)

    def fail(**kwargs: Any) -> None:
        raise RuntimeError("injected failure")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="injected failure"):
        patch.setattr(credit_note_services, "ledger_append", fail)
        credit_note_issue(credit_note=draft, actor=None, recipients=RECIPIENTS)

    assert nothing_changed_snapshot(invoice) == before
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.seller_snapshot) == ("draft", "", {})
    assert not DocumentCounter.objects.filter(series="credit_note", last_value__gt=0).exists()
    assert not AuditEvent.objects.filter(verb="credit_note.issued").exists()
    assert credit_note_issue(credit_note=draft, actor=None).number == "CN-2026-00001"


def test_issuing_with_recipients_emails_the_credit_note_with_a_client_link(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    draft = credit_note_create(invoice=invoice, actor=None, reason="Dispute")

    issued = credit_note_issue(credit_note=draft, actor=None, recipients=RECIPIENTS)

    email = EmailMessage.objects.get()
    assert email.subject.endswith(f"credit note {issued.number}")
    assert f"for invoice {invoice.number}" in email_render(email).text
    assert email.attach_document_type == "billing.creditnote"
    assert issued.portal_links.count() == 1


def test_credit_kept_for_later_is_the_clients_to_apply_to_another_open_invoice(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice, later = issued_invoice(), issued_invoice()
    kept = full_credit(invoice, settlement=CreditSettlement.KEEP)
    assert invoice_state(invoice) == (InvoiceStatus.OPEN, 0, 142800)

    credit_note_apply(
        agency=invoice.agency, actor=None, credit_note=kept, invoice=later, amount_minor=100000
    )

    assert invoice_state(later) == (InvoiceStatus.OPEN, 100000, 42800)
    assert credit_note_credit(kept) == CreditNoteCredit(
        applied_minor=100000,
        refunded_minor=0,
        remaining_minor=42800,
    )
    with pytest.raises(ValidationError) as refused:
        credit_note_apply(
            agency=invoice.agency, actor=None, credit_note=kept, invoice=later, amount_minor=42801
        )
    assert refused.value.message_dict == {
        "amount": [f"Invoice {later.number} has only $428.00 left."]
    }


def test_credit_cannot_go_to_another_clients_invoice_or_past_what_is_left(
    issued_invoice: Callable[..., Invoice], agency: Agency
) -> None:
    invoice = issued_invoice()
    kept = full_credit(
        invoice, settlement=CreditSettlement.KEEP, lines=[credit_line(invoice, 1, "1", "10.00")]
    )
    stranger: Client = ClientFactory.create(agency=agency, currency="USD")
    foreign = invoice_issue(
        invoice=invoice_create(agency=agency, actor=None, client=stranger, lines=[line()]),
        actor=None,
    )

    with pytest.raises(ValidationError) as refused:
        credit_note_apply(
            agency=agency, actor=None, credit_note=kept, invoice=foreign, amount_minor=100
        )
    assert refused.value.message_dict == {
        "invoice": ["This invoice does not belong to the client."]
    }
    with pytest.raises(ValidationError) as refused:
        credit_note_apply(
            agency=agency, actor=None, credit_note=kept, invoice=invoice, amount_minor=1191
        )
    assert refused.value.message_dict == {
        "amount": [f"Credit note {kept.number} has only $11.90 of credit left."]
    }
    assert invoice_state(foreign)[1:] == (0, 100000)
    assert credit_note_remaining_minor(kept) == 1190


def test_the_settlement_changes_only_while_the_credit_is_unspent(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    kept = full_credit(
        invoice, settlement=CreditSettlement.KEEP, lines=[credit_line(invoice, 1, "1", "100.00")]
    )

    credit_note_settlement_change(credit_note=kept, actor=None, settlement=CreditSettlement.APPLY)

    assert invoice_state(invoice) == (InvoiceStatus.OPEN, 11900, 142800 - 11900)
    with pytest.raises(ValidationError, match="Part of this credit is spent"):
        credit_note_settlement_change(
            credit_note=kept, actor=None, settlement=CreditSettlement.KEEP
        )


def test_an_invoice_with_an_issued_credit_note_cannot_be_voided(
    issued_invoice: Callable[..., Invoice],
) -> None:
    invoice = issued_invoice()
    full_credit(
        invoice, settlement=CreditSettlement.KEEP, lines=[credit_line(invoice, 1, "1", "1.00")]
    )
    with pytest.raises(ValidationError, match="credit note"):
        invoice_void(invoice=invoice, actor=None, reason="Mistake")
    assert invoice_state(invoice)[0] == InvoiceStatus.OPEN
