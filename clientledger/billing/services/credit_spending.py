"""Spending an issued credit note's credit: on its own invoice or another open one, what
its settlement is for, and giving back credit a failed refund had spent.

Lock order, as every payment writer: the invoices (`invoices_lock`, id order), then the
client row, then the credit note. The client row serializes every spending of a client's
credit, so a credit note's remaining credit, read after that lock, is never spent twice."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.audit_verbs import CreditNoteVerb
from clientledger.billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteStatus,
    CreditSettlement,
    Invoice,
    InvoiceStatus,
)
from clientledger.billing.selectors.credits import credit_note_remaining_minor
from clientledger.billing.services.common import document_lock, money_text
from clientledger.billing.services.settlement import (
    invoice_credit_applied,
    invoice_credit_released,
    invoices_lock,
)
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.crm.models import Client


def settlement_check(settlement: str) -> None:
    """Refuse a settlement that is not one of the choices."""
    if settlement not in CreditSettlement.values:
        choices = ", ".join(CreditSettlement.values)
        raise ValidationError({"settlement": f"Choose one of: {choices}."})


def client_credit_lock(client_id: int) -> Client:
    """Lock the client row, which serializes every spending of the client's credit."""
    return Client.objects.select_for_update().get(pk=client_id)


def credit_note_apply_to_own_invoice(
    credit_note: CreditNote, invoice: Invoice, actor: User | None
) -> None:
    """As much of the credit as the (locked) invoice still owes; the rest stays credit."""
    if invoice.status != InvoiceStatus.OPEN:
        return
    amount = min(credit_note_remaining_minor(credit_note), invoice.balance_due_minor)
    if amount > 0:
        credit_application_add(
            credit_note=credit_note, invoice=invoice, amount_minor=amount, actor=actor
        )


def credit_note_settlement_change(
    *, credit_note: CreditNote, actor: User | None, settlement: str
) -> CreditNote:
    """Change what an issued credit note's credit is for while none of it is spent; choosing
    to apply it applies it to its invoice at once."""
    settlement_check(settlement)
    with transaction.atomic():
        invoice = invoices_lock(agency=credit_note.agency, ids=[credit_note.invoice_id])[
            credit_note.invoice_id
        ]
        client_credit_lock(credit_note.client_id)
        locked = document_lock(credit_note)
        if locked.status == CreditNoteStatus.DRAFT:
            locked.settlement = settlement
            locked.save(update_fields=["settlement"])
            return locked
        if credit_note_remaining_minor(locked) != locked.total_minor:
            raise ValidationError(
                {"settlement": "Part of this credit is spent; its settlement cannot change."}
            )
        before = locked.settlement
        locked.settlement = settlement
        locked.updated_at = clock.now()
        locked.save(update_fields=["settlement", "updated_at"])
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=CreditNoteVerb.SETTLEMENT_CHANGED,
            subject=locked,
            client_id=locked.client_id,
            data={"from": before, "to": settlement},
        )
        if settlement == CreditSettlement.APPLY:
            credit_note_apply_to_own_invoice(locked, invoice, actor)
    return locked


def credit_application_add(
    *,
    credit_note: CreditNote,
    invoice: Invoice,
    amount_minor: int,
    actor: User | None,
    is_refund: bool = False,
) -> CreditApplication:
    """Spend `amount_minor` of an issued credit note on an invoice. The caller holds the
    invoice's lock and the client's: the remaining credit read here cannot change under it.
    No ledger entry: the credit reached the ledger when the credit note was issued."""
    if credit_note.status != CreditNoteStatus.ISSUED:
        raise ValidationError({"credit_note": "Issue the credit note before using its credit."})
    remaining = credit_note_remaining_minor(credit_note)
    if amount_minor > remaining:
        raise ValidationError(
            {
                "amount": f"Credit note {credit_note} has only "
                f"{money_text(remaining, credit_note.currency)} of credit left."
            }
        )
    application = CreditApplication.objects.create(
        agency_id=credit_note.agency_id,
        credit_note=credit_note,
        invoice=invoice,
        amount_minor=amount_minor,
        is_refund=is_refund,
    )
    invoice_credit_applied(invoice=invoice, amount_minor=amount_minor)
    audit_record(
        agency=credit_note.agency,
        actor=actor,
        verb=CreditNoteVerb.APPLIED,
        subject=credit_note,
        client_id=credit_note.client_id,
        data={
            "invoice": invoice.number,
            "amount": from_minor(amount_minor, credit_note.currency),
            "refund": is_refund,
        },
    )
    return application


def credit_application_release(
    *, application: CreditApplication, invoices: dict[int, Invoice]
) -> None:
    """Credit spent for a refund that failed comes back to its credit note: the (locked)
    invoice owes that much again, before the failed refund's money pays it again."""
    invoice = invoices[application.invoice_id]
    credit_note = application.credit_note
    invoice_credit_released(invoice=invoice, amount_minor=application.amount_minor)
    audit_record(
        agency=credit_note.agency,
        actor=None,
        verb=CreditNoteVerb.RELEASED,
        subject=credit_note,
        client_id=credit_note.client_id,
        data={
            "invoice": invoice.number,
            "amount": from_minor(application.amount_minor, credit_note.currency),
        },
    )
    application.released_at = clock.now()
    application.save(update_fields=["released_at"])


def credit_note_apply(
    *,
    agency: Agency,
    actor: User | None,
    credit_note: CreditNote,
    invoice: Invoice,
    amount_minor: int,
) -> CreditApplication:
    """Spend part of one credit note's credit on an open invoice of the same client."""
    if credit_note.agency_id != agency.pk:
        raise ValidationError({"credit_note": "This credit note does not belong to your agency."})
    if invoice.agency_id != agency.pk or invoice.client_id != credit_note.client_id:
        raise ValidationError({"invoice": "This invoice does not belong to the client."})
    if invoice.currency != credit_note.currency:
        raise ValidationError(
            {
                "invoice": f"Invoice {invoice} is in {invoice.currency}, "
                f"not in {credit_note.currency}."
            }
        )
    if amount_minor <= 0:
        raise ValidationError({"amount": "The amount must be greater than zero."})
    with transaction.atomic():
        locked_invoice = invoices_lock(agency=agency, ids=[invoice.pk])[invoice.pk]
        if locked_invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(
                {
                    "invoice": f"Invoice {invoice} is {locked_invoice.status}; only open invoices "
                    "take credit."
                }
            )
        if amount_minor > locked_invoice.balance_due_minor:
            due = money_text(locked_invoice.balance_due_minor, invoice.currency)
            raise ValidationError({"amount": f"Invoice {invoice} has only {due} left."})
        client_credit_lock(credit_note.client_id)
        locked = document_lock(credit_note)
        return credit_application_add(
            credit_note=locked, invoice=locked_invoice, amount_minor=amount_minor, actor=actor
        )
