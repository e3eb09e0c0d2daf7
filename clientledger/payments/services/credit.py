"""Applying a client's unallocated credit to open invoices."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.audit_verbs import InvoiceVerb
from clientledger.billing.models import CreditNote, Invoice
from clientledger.billing.selectors.credits import credit_note_rests
from clientledger.billing.services.credit_spending import (
    credit_application_add,
)
from clientledger.billing.services.settlement import invoice_payment_applied, invoices_lock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.payments.models import (
    Allocation,
)
from clientledger.payments.selectors import payment_credit_rests
from clientledger.payments.services.common import (
    allocation_add,
    client_check,
    client_lock,
    invoice_label,
    minor_amount,
    money_text,
    payable_check,
)


def credit_apply(
    *, agency: Agency, actor: User | None, client: Client, invoice: Invoice, amount: Decimal
) -> list[Allocation]:
    """Pay an open invoice with the client's credit, taken from its oldest payments first,
    then from its oldest credit notes.

    No ledger entry: the money reached the ledger when the payment was recorded or the credit
    note issued."""
    client_check(agency, client)
    amount_minor = minor_amount(amount, client.currency, "amount")
    with transaction.atomic():
        locked_invoice = payable_check(
            invoices_lock(agency=agency, ids=[invoice.pk]).get(invoice.pk),
            client,
            client.currency,
            field="invoice",
        )
        if amount_minor > locked_invoice.balance_due_minor:
            due = money_text(locked_invoice.balance_due_minor, locked_invoice.currency)
            raise ValidationError(
                {"amount": f"{invoice_label(locked_invoice)} has only {due} left."}
            )
        locked_client = client_lock(client.pk)
        sources = payment_credit_rests(agency=agency, client=locked_client)
        notes = credit_note_rests(agency=agency, client=locked_client)
        credit = sum(rest for _, rest in sources) + sum(rest for _, rest in notes)
        if amount_minor > credit:
            raise ValidationError(
                {"amount": f"The client has only {money_text(credit, client.currency)} of credit."}
            )
        applied, remaining = _credit_from_payments(
            invoice=locked_invoice, sources=sources, amount_minor=amount_minor
        )
        _credit_from_notes(actor=actor, invoice=locked_invoice, notes=notes, amount_minor=remaining)
        audit_record(
            agency=agency,
            actor=actor,
            verb=InvoiceVerb.CREDIT_APPLIED,
            subject=locked_invoice,
            client_id=client.pk,
            data={
                "amount": from_minor(amount_minor, client.currency),
                "payments": [allocation.payment_id for allocation in applied],
            },
        )
    return applied


def _credit_from_payments(
    *, invoice: Invoice, sources: list[tuple[int, int]], amount_minor: int
) -> tuple[list[Allocation], int]:
    """Allocate up to the amount from the payments' unallocated rests, oldest first; the
    allocations touched and what is left to cover."""
    applied: list[Allocation] = []
    remaining = amount_minor
    for payment_id, rest in sources:
        if remaining == 0:
            break
        share = min(remaining, rest)
        applied.append(allocation_add(payment_id, invoice, share))
        remaining -= share
    from_payments = amount_minor - remaining
    if from_payments:
        invoice_payment_applied(invoice=invoice, amount_minor=from_payments)
    return applied, remaining


def _credit_from_notes(
    *, actor: User | None, invoice: Invoice, notes: list[tuple[int, int]], amount_minor: int
) -> None:
    """Apply what the payments did not cover from the credit notes' rests, oldest first."""
    remaining = amount_minor
    for credit_note_id, rest in notes:
        if remaining == 0:
            break
        share = min(remaining, rest)
        credit_application_add(
            credit_note=CreditNote.objects.select_for_update().get(pk=credit_note_id),
            invoice=invoice,
            amount_minor=share,
            actor=actor,
        )
        remaining -= share
