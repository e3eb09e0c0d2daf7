"""Issuing and voiding invoices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import User
from clientledger.billing.audit_verbs import InvoiceVerb
from clientledger.billing.models import (
    CreditNoteStatus,
    DocumentSeries,
    Invoice,
    InvoiceStatus,
    LedgerEntryKind,
)
from clientledger.billing.services.common import DOCUMENT_PRICED, document_lock
from clientledger.billing.services.ledger import LedgerFields, ledger_append
from clientledger.billing.services.numbering import number_take
from clientledger.billing.services.rollups import invoice_balance_moved
from clientledger.billing.services.snapshots import snapshot_freeze
from clientledger.billing.states import invoice_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.cursors import cursor_shared
from clientledger.core.dates import dates_check
from clientledger.core.rows import row_update


def invoice_issue(
    *,
    invoice: Invoice,
    actor: User | None,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
) -> Invoice:
    """Number, date, snapshot and freeze a draft, and post it to the client's ledger."""
    dates_check(issue_date=issue_date, due_date=due_date)
    with transaction.atomic(), cursor_shared():
        locked = document_lock(invoice)
        invoice_transition_check(locked.status, InvoiceStatus.OPEN)
        issued_on, due_on = issue_dates(locked, issue_date=issue_date, due_date=due_date)
        repriced = snapshot_freeze(locked)
        total_check(locked)
        invoice_issued(
            locked,
            number=number_take(agency=locked.agency, series=DocumentSeries.INVOICE, on=issued_on),
            issued_on=issued_on,
            due_on=due_on,
            at=clock.now(),
        )
        row_update(locked, (*ISSUED_FIELDS, *DOCUMENT_PRICED) if repriced else ISSUED_FIELDS)
        # Audited before the moves of the ledger and of what the invoice owes: they take the
        # agency's rollup lock, held until the transaction ends, so it is taken last.
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=InvoiceVerb.ISSUED,
            subject=locked,
            client_id=locked.client_id,
            data=issued_audit_data(locked),
        )
        ledger_append(**issued_ledger_fields(locked))
        invoice_balance_moved(
            locked,
            owed_minor=locked.total_minor,
            status_before=InvoiceStatus.DRAFT,
            at=locked.updated_at,
        )
    return locked


# What issuing does to one invoice, shared by `invoice_issue` and the batch writer
# (`batches.invoices_create_many`) so that both issue alike.


def issue_dates(
    invoice: Invoice, *, issue_date: dt.date | None, due_date: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The issue date (the agency's today by default) and the due date (after the client's
    payment terms by default); refused if due before issued."""
    issued_on = issue_date or clock.agency_today(invoice.agency)
    due_on = due_date or issued_on + dt.timedelta(days=invoice.client.effective_payment_terms_days)
    if due_on < issued_on:
        raise ValidationError({"due_date": "The due date cannot be before the issue date."})
    return issued_on, due_on


def total_check(invoice: Invoice) -> None:
    if invoice.total_minor < 0:
        raise ValidationError("An invoice total cannot be negative.")


# What issuing changes on the invoice's row: `invoice_issued`'s fields and the snapshots (and
# the totals, when `snapshot_freeze` priced them again).
ISSUED_FIELDS = (
    "number",
    "issue_date",
    "due_date",
    "status",
    "issued_at",
    "updated_at",
    "seller_snapshot",
    "buyer_snapshot",
)


def invoice_issued(
    invoice: Invoice, *, number: str, issued_on: dt.date, due_on: dt.date, at: dt.datetime
) -> None:
    """Set the fields of a priced, snapshotted invoice that issuing changes (not saved)."""
    invoice.number = number
    invoice.issue_date, invoice.due_date = issued_on, due_on
    invoice.status = InvoiceStatus.OPEN
    invoice.issued_at = at
    invoice.updated_at = at


def issued_ledger_fields(invoice: Invoice) -> LedgerFields:
    """The ledger entry of an issued invoice: its total, owed by the client."""
    assert invoice.issued_at is not None
    return {
        "client": invoice.client,
        "kind": LedgerEntryKind.INVOICE_ISSUED,
        "document": invoice,
        "document_reference": invoice.number,
        "amount_minor": invoice.total_minor,
        "currency": invoice.currency,
        "occurred_at": invoice.issued_at,
    }


def issued_audit_data(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "total_minor": invoice.total_minor,
        "due_date": invoice.due_date,
    }


def invoice_void(*, invoice: Invoice, actor: User | None, reason: str) -> Invoice:
    """Void an issued invoice with nothing paid or credited; the ledger entry is reversed."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the invoice is voided."})
    with transaction.atomic():
        locked = document_lock(invoice)
        invoice_transition_check(locked.status, InvoiceStatus.VOID)
        credit_noted = locked.credit_notes.filter(status=CreditNoteStatus.ISSUED).exists()
        if locked.amount_paid_minor or locked.amount_credited_minor or credit_noted:
            raise ValidationError(
                "This invoice has payments or credits; correct it with a credit note instead."
            )
        status_before = locked.status
        locked.status = InvoiceStatus.VOID
        locked.voided_at = clock.now()
        locked.void_reason = reason.strip()
        locked.updated_at = locked.voided_at
        locked.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
        ledger_append(
            client=locked.client,
            kind=LedgerEntryKind.INVOICE_VOIDED,
            document=locked,
            document_reference=locked.number,
            amount_minor=-locked.total_minor,
            currency=locked.currency,
            occurred_at=locked.voided_at,
        )
        invoice_balance_moved(
            locked, owed_minor=-locked.total_minor, status_before=status_before, at=locked.voided_at
        )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=InvoiceVerb.VOIDED,
            subject=locked,
            client_id=locked.client_id,
            data={"reason": locked.void_reason},
        )
    return locked
