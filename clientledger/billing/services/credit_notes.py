"""Credit notes: a draft from an issued invoice, its lines, and issuing it (spending its
credit is in `credit_spending`).

Lock order, as every payment writer: the invoices (`invoices_lock`, id order), then the
client row, then the credit note. The client row serializes every spending of a client's
credit, so a credit note's remaining credit, read after that lock, is never spent twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import User
from clientledger.billing.audit_verbs import DOCUMENT_VERBS, CreditNoteVerb
from clientledger.billing.models import (
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    CreditSettlement,
    DocumentSeries,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntryKind,
)
from clientledger.billing.selectors.credits import (
    Creditable,
    invoice_creditable,
)
from clientledger.billing.services.common import (
    document_lines,
    document_lock,
    draft_require,
    line_price,
    money_text,
)
from clientledger.billing.services.credit_spending import (
    client_credit_lock,
    credit_note_apply_to_own_invoice,
    settlement_check,
)
from clientledger.billing.services.drafts import document_update
from clientledger.billing.services.ledger import ledger_append
from clientledger.billing.services.numbering import number_take
from clientledger.billing.services.sending import document_email_queue, recipients_clean
from clientledger.billing.services.settlement import (
    invoices_lock,
)
from clientledger.billing.services.snapshots import snapshot_freeze
from clientledger.billing.states import credit_note_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.dates import dates_check
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.lines.validation import lines_validate

# An invoice in these states was issued and stands: it can be credited.
CREDITABLE_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE)


@dataclass
class CreditLine:
    """A credit note line as entered: the invoice line it credits (kept, reduced in quantity
    or price) or none for a free adjustment line."""

    data: LineData
    invoice_line_id: int | None = None


def _invoice_creditable_check(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.DRAFT:
        raise ValidationError(
            {"invoice": "This invoice is a draft: change it, or issue it before crediting it."}
        )
    if invoice.status not in CREDITABLE_STATUSES:
        raise ValidationError(
            {"invoice": f"Invoice {invoice} is {invoice.status} and cannot be credited."}
        )


def _lines_prepare(invoice: Invoice, lines: Sequence[CreditLine]) -> list[CreditLine]:
    """Each line crediting an invoice line takes that line's service, unit and taxes, so the
    tax is reversed at the rates it was charged; a line of another invoice is refused."""
    by_id = {line.pk: line for line in invoice.lines.select_related("service", "tax_1", "tax_2")}
    errors: list[dict[str, str]] = []
    prepared: list[CreditLine] = []
    for entry in lines:
        if entry.invoice_line_id is None:
            errors.append({})
            prepared.append(entry)
            continue
        original = by_id.get(entry.invoice_line_id)
        if original is None:
            errors.append({"invoice_line": f"This line is not on invoice {invoice}."})
            prepared.append(entry)
            continue
        errors.append({})
        data = LineData(
            description=entry.data.description,
            quantity=entry.data.quantity,
            unit_price=entry.data.unit_price,
            unit=original.unit,
            service=original.service,
            discount_kind=original.discount_kind,
            discount_value=original.discount_value,
            taxes=original.taxes,
            recurrence=original.recurrence,
        )
        prepared.append(CreditLine(data=data, invoice_line_id=original.pk))
    if any(errors):
        raise LinesInvalid(errors)
    lines_validate(
        agency=invoice.agency,
        client=invoice.client,
        lines=[entry.data for entry in prepared],
        existing=list(by_id.values()),
    )
    return prepared


def _lines_write(credit_note: CreditNote, lines: Sequence[CreditLine]) -> list[CreditNoteLine]:
    """Replace the lines of a locked draft credit note and refresh its totals."""
    document_lines(credit_note).delete()
    built = [
        CreditNoteLine(
            agency=credit_note.agency,
            credit_note=credit_note,
            position=position,
            invoice_line_id=entry.invoice_line_id,
            **entry.data.fields(),
        )
        for position, entry in enumerate(lines)
    ]
    line_price(credit_note, built)
    CreditNoteLine.objects.bulk_create(built)
    credit_note.updated_at = clock.now()
    credit_note.save()
    return built


def _creditable_check(
    invoice: Invoice, credit_note: CreditNote, lines: Sequence[CreditNoteLine]
) -> None:
    """Never more than what issued credit notes left creditable, per line and in total."""
    creditable: Creditable = invoice_creditable(invoice)
    currency = invoice.currency
    errors: list[dict[str, str]] = []
    asked: dict[int, int] = {}
    for line in lines:
        if line.invoice_line_id is None:
            errors.append({})
            continue
        asked[line.invoice_line_id] = asked.get(line.invoice_line_id, 0) + line.total_minor
        left = creditable.lines_minor.get(line.invoice_line_id, 0)
        if asked[line.invoice_line_id] > left:
            errors.append(
                {
                    "quantity": (
                        f"Only {money_text(max(left, 0), currency)} of this line is still "
                        f"creditable on invoice {invoice}."
                    )
                }
            )
        else:
            errors.append({})
    totals: list[str] = []
    if credit_note.total_minor <= 0:
        totals.append("A credit note must credit an amount greater than zero.")
    elif credit_note.total_minor > creditable.total_minor:
        totals.append(
            f"This credit note comes to {money_text(credit_note.total_minor, currency)}, but only "
            f"{money_text(max(creditable.total_minor, 0), currency)} of invoice {invoice} is still "
            "creditable."
        )
    if any(errors) or totals:
        raise LinesInvalid(errors, totals)


def _tax_rates_check(lines: Sequence[CreditNoteLine]) -> None:
    """The tax is reversed exactly only at the rates the invoice charged."""
    originals = InvoiceLine.objects.in_bulk(
        [line.invoice_line_id for line in lines if line.invoice_line_id is not None]
    )
    for line in lines:
        if line.invoice_line_id is None:
            continue
        charged = [tax["percent"] for tax in originals[line.invoice_line_id].tax_snapshot]
        now = [tax["percent"] for tax in line.tax_snapshot]
        if charged != now:
            raise ValidationError(
                f"The tax rates of “{line.description}” changed since the invoice was issued; "
                "credit that line with a free adjustment line instead."
            )


def invoice_credit_lines(invoice: Invoice) -> list[CreditLine]:
    """The invoice's lines nothing has credited yet, as a draft credit note's lines: a full
    credit needs no editing."""
    creditable = invoice_creditable(invoice)
    return [
        CreditLine(data=LineData.from_line(line), invoice_line_id=line.pk)
        for line in invoice.lines.select_related("service", "tax_1", "tax_2").order_by(
            "position", "id"
        )
        if creditable.lines_minor.get(line.pk) == line.total_minor
    ]


def credit_note_create(
    *,
    invoice: Invoice,
    actor: User | None,
    reason: str,
    settlement: str = CreditSettlement.APPLY,
    lines: Sequence[CreditLine] | None = None,
    notes: str = "",
    terms: str = "",
    currency: str | None = None,
) -> CreditNote:
    """A draft credit note for an issued invoice, with the given lines or, by default, every
    line of the invoice not credited yet."""
    _invoice_creditable_check(invoice)
    if not reason.strip():
        raise ValidationError({"reason": "Say why this credit note is issued."})
    if currency is not None and currency != invoice.currency:
        raise ValidationError(
            {"currency": f"Invoice {invoice} is in {invoice.currency}, not in {currency}."}
        )
    settlement_check(settlement)
    prepared = _lines_prepare(
        invoice, invoice_credit_lines(invoice) if lines is None else list(lines)
    )
    if not prepared:
        raise ValidationError({"lines": f"Nothing is left to credit on invoice {invoice}."})
    credit_note = CreditNote(
        agency=invoice.agency,
        client=invoice.client,
        deal=invoice.deal,
        invoice=invoice,
        currency=invoice.currency,
        reason=reason.strip(),
        settlement=settlement,
        notes=notes,
        terms=terms,
        created_by=actor,
    )
    credit_note.full_clean(exclude=["number"])
    with transaction.atomic():
        credit_note.save()
        built = _lines_write(credit_note, prepared)
        _creditable_check(invoice, credit_note, built)
        audit_record(
            agency=invoice.agency,
            actor=actor,
            verb=DOCUMENT_VERBS["credit_note"].created,
            subject=credit_note,
            client_id=invoice.client_id,
            data={"invoice": invoice.number, "lines": len(built)},
        )
    return credit_note


def credit_note_lines_replace(
    *, credit_note: CreditNote, actor: User | None, lines: Sequence[CreditLine]
) -> CreditNote:
    """Keep, remove or reduce the invoice's lines and add free adjustment lines: every line
    valid and creditable, or nothing changes."""
    invoice = credit_note.invoice
    prepared = _lines_prepare(invoice, lines)
    with transaction.atomic():
        locked = document_lock(credit_note)
        draft_require(locked, locked.status)
        built = _lines_write(locked, prepared)
        _creditable_check(invoice, locked, built)
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=DOCUMENT_VERBS["credit_note"].lines_saved,
            subject=locked,
            client_id=locked.client_id,
            data={"lines": len(built)},
        )
    return locked


def credit_note_issue(
    *,
    credit_note: CreditNote,
    actor: User | None,
    issue_date: dt.date | None = None,
    recipients: list[str] | None = None,
    message: str = "",
) -> CreditNote:
    """Number, snapshot and freeze a draft, post its credit to the client's ledger and settle
    it as chosen: applied to its invoice's balance (what the balance takes; the rest stays
    credit), kept as credit, or left for a refund. With `recipients` it is emailed too."""
    dates_check(issue_date=issue_date)
    to = recipients_clean(recipients) if recipients is not None else None
    with transaction.atomic():
        invoice = invoices_lock(agency=credit_note.agency, ids=[credit_note.invoice_id])[
            credit_note.invoice_id
        ]
        client_credit_lock(credit_note.client_id)
        locked = document_lock(credit_note)
        credit_note_transition_check(locked.status, CreditNoteStatus.ISSUED)
        _invoice_creditable_check(invoice)
        snapshot_freeze(locked)
        lines = list(document_lines(locked).order_by("position", "id"))
        _tax_rates_check(lines)  # type: ignore[arg-type]
        _creditable_check(invoice, locked, lines)  # type: ignore[arg-type]
        _issued_post(locked, issue_date or clock.agency_today(locked.agency))
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=CreditNoteVerb.ISSUED,
            subject=locked,
            client_id=locked.client_id,
            data={
                "number": locked.number,
                "invoice": invoice.number,
                "total_minor": locked.total_minor,
                "settlement": locked.settlement,
            },
        )
        if locked.settlement == CreditSettlement.APPLY:
            credit_note_apply_to_own_invoice(locked, invoice, actor)
        if to is not None:
            document_email_queue(locked, actor=actor, recipients=to, message=message)
            locked.save(update_fields=["sent_at"])
    return locked


def _issued_post(credit_note: CreditNote, issued_on: dt.date) -> None:
    """Number the locked credit note, mark it issued and post its credit to the ledger."""
    credit_note.number = number_take(
        agency=credit_note.agency, series=DocumentSeries.CREDIT_NOTE, on=issued_on
    )
    credit_note.issue_date = issued_on
    credit_note.status = CreditNoteStatus.ISSUED
    credit_note.issued_at = clock.now()
    credit_note.updated_at = credit_note.issued_at
    credit_note.save()
    ledger_append(
        client=credit_note.client,
        kind=LedgerEntryKind.CREDIT_NOTE_ISSUED,
        document=credit_note,
        document_reference=credit_note.number,
        amount_minor=-credit_note.total_minor,
        currency=credit_note.currency,
        occurred_at=credit_note.issued_at,
    )


def credit_note_update(*, credit_note: CreditNote, actor: User | None, **data: Any) -> CreditNote:
    """A draft's texts, reason and settlement (the shared `drafts.document_update`)."""
    if "reason" in data and not str(data["reason"]).strip():
        raise ValidationError({"reason": "Say why this credit note is issued."})
    if "settlement" in data:
        settlement_check(data["settlement"])
    return document_update(document=credit_note, actor=actor, **data)
