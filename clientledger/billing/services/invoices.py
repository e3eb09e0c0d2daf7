"""Issuing and voiding invoices."""

from __future__ import annotations

import datetime as dt

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
from clientledger.billing.services.common import document_lock
from clientledger.billing.services.ledger import ledger_append
from clientledger.billing.services.numbering import number_take
from clientledger.billing.services.snapshots import snapshot_freeze
from clientledger.billing.states import invoice_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.dates import dates_check


def invoice_issue(
    *,
    invoice: Invoice,
    actor: User | None,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
) -> Invoice:
    """Number, date, snapshot and freeze a draft, and post it to the client's ledger."""
    dates_check(issue_date=issue_date, due_date=due_date)
    with transaction.atomic():
        locked = document_lock(invoice)
        invoice_transition_check(locked.status, InvoiceStatus.OPEN)
        issued_on = issue_date or clock.agency_today(locked.agency)
        terms = locked.client.effective_payment_terms_days
        due_on = due_date or issued_on + dt.timedelta(days=terms)
        if due_on < issued_on:
            raise ValidationError({"due_date": "The due date cannot be before the issue date."})
        snapshot_freeze(locked)
        if locked.total_minor < 0:
            raise ValidationError("An invoice total cannot be negative.")
        locked.number = number_take(
            agency=locked.agency, series=DocumentSeries.INVOICE, on=issued_on
        )
        locked.issue_date, locked.due_date = issued_on, due_on
        locked.status = InvoiceStatus.OPEN
        locked.issued_at = clock.now()
        locked.updated_at = locked.issued_at
        locked.save()
        ledger_append(
            client=locked.client,
            kind=LedgerEntryKind.INVOICE_ISSUED,
            document=locked,
            document_reference=locked.number,
            amount_minor=locked.total_minor,
            currency=locked.currency,
            occurred_at=locked.issued_at,
        )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=InvoiceVerb.ISSUED,
            subject=locked,
            client_id=locked.client_id,
            data={"number": locked.number, "total_minor": locked.total_minor, "due_date": due_on},
        )
    return locked


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
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=InvoiceVerb.VOIDED,
            subject=locked,
            client_id=locked.client_id,
            data={"reason": locked.void_reason},
        )
    return locked
