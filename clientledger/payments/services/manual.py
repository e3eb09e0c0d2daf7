"""Recording a payment by hand (or from an import) and allocating it to open invoices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NotRequired, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.models import Invoice, LedgerEntryKind
from clientledger.billing.services.ledger import ledger_append
from clientledger.billing.services.settlement import (
    SETTLEMENT_FIELDS,
    client_open_invoices_lock,
    invoice_payment_applied,
    invoices_lock,
)
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.cursors import cursor_shared
from clientledger.core.dates import dates_check
from clientledger.core.money import from_minor
from clientledger.core.rows import row_insert, row_write
from clientledger.crm.models import Client
from clientledger.notifications.services import email_write
from clientledger.payments.audit_verbs import PaymentVerb
from clientledger.payments.models import (
    MANUAL_METHODS,
    Allocation,
    Payment,
    PaymentStatus,
)
from clientledger.payments.selectors import allocation_spread, oldest_first
from clientledger.payments.services.common import (
    MAX_TEXT,
    client_check,
    client_lock,
    invoice_label,
    minor_amount,
    money_text,
    payable_check,
)


def _payment_by_key(agency: Agency, key: str) -> Payment | None:
    return Payment.objects.filter(agency=agency, idempotency_key=key).first()


class ManualPaymentFields(TypedDict):
    """What `payment_record_manual` and `payment_record_manual_booked` are given."""

    agency: Agency
    actor: User | None
    client: Client
    amount: Decimal
    currency: str
    received_on: dt.date
    method: str
    reference: NotRequired[str]
    notes: NotRequired[str]
    allocations: NotRequired[list[tuple[Invoice, Decimal]] | None]
    idempotency_key: NotRequired[str | None]


@dataclass(frozen=True)
class BookedPayment:
    """A recorded payment with what it paid of each invoice (`paid`: the invoice, the minor
    units), or, when `recorded` is false, the payment an earlier submission of the same key
    recorded (its allocations are then not read: `paid` is empty)."""

    payment: Payment
    paid: list[tuple[Invoice, int]]
    recorded: bool


def payment_record_manual(**fields: Unpack[ManualPaymentFields]) -> Payment:
    """Record money the client sent, pay its invoices with it and keep the rest as credit.

    Without `allocations` the payment goes to the client's open invoices, oldest due first.
    The same `idempotency_key` twice, even at the same instant, gives the first payment."""
    return payment_record_manual_booked(**fields).payment


def payment_record_manual_booked(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    amount: Decimal,
    currency: str,
    received_on: dt.date,
    method: str,
    reference: str = "",
    notes: str = "",
    allocations: list[tuple[Invoice, Decimal]] | None = None,
    idempotency_key: str | None = None,
) -> BookedPayment:
    """`payment_record_manual`, answering what it booked too (an API answers the new payment
    without reading it back).

    The key is looked up once, under the invoice and client locks: concurrent submissions of
    one key wait there for each other, and a retry of a recorded payment finds it there."""
    key = idempotency_key or None
    if key is not None and len(key) > MAX_TEXT:
        raise ValidationError({"idempotency_key": "The idempotency key is too long."})
    _manual_payment_check(
        agency=agency,
        client=client,
        currency=currency,
        received_on=received_on,
        method=method,
        reference=reference,
    )
    payment = Payment(
        agency=agency,
        client=client,
        method=method,
        status=PaymentStatus.SUCCEEDED,
        amount_minor=minor_amount(amount, currency, "amount"),
        currency=currency,
        received_on=received_on,
        reference=reference.strip(),
        notes=notes.strip(),
        idempotency_key=key,
        created_by=actor,
    )
    requested = None if allocations is None else _requested_allocations(allocations, currency)
    try:
        with transaction.atomic(), cursor_shared():
            return _payment_record(
                agency=agency, actor=actor, client=client, payment=payment, requested=requested
            )
    except IntegrityError:
        # The same key recorded meanwhile for another client (no lock shared): that payment.
        existing = _payment_by_key(agency, key) if key is not None else None
        if existing is None:
            raise
        return BookedPayment(payment=existing, paid=[], recorded=False)


def _manual_payment_check(
    *,
    agency: Agency,
    client: Client,
    currency: str,
    received_on: dt.date,
    method: str,
    reference: str,
) -> None:
    client_check(agency, client)
    dates_check(received_on=received_on)
    if currency != client.currency:
        raise ValidationError(
            {"currency": f"{client.name} pays in {client.currency}, not in {currency}."}
        )
    if method not in MANUAL_METHODS:
        raise ValidationError({"method": "Choose bank transfer, check, cash or other."})
    if len(reference) > MAX_TEXT:
        raise ValidationError({"reference": f"Keep the reference under {MAX_TEXT} characters."})


def _requested_allocations(
    allocations: list[tuple[Invoice, Decimal]], currency: str
) -> list[tuple[int, int]]:
    requested: list[tuple[int, int]] = []
    for invoice, amount in allocations:
        if any(invoice.pk == invoice_id for invoice_id, _ in requested):
            raise ValidationError({"allocations": f"{invoice_label(invoice)} is listed twice."})
        requested.append((invoice.pk, minor_amount(amount, currency, "allocations")))
    return requested


def _payment_record(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    payment: Payment,
    requested: list[tuple[int, int]] | None,
) -> BookedPayment:
    """Save `payment` with its allocations, ledger entry, audit and receipt, unless the same
    submission was recorded already (checked under the locks).

    Without `requested` the payment pays the client's open invoices, oldest due first."""
    if requested is None:
        invoices = client_open_invoices_lock(
            agency=agency, client_id=client.pk, fields=SETTLEMENT_FIELDS
        )
    else:
        invoices = invoices_lock(
            agency=agency,
            ids=(invoice_id for invoice_id, _ in requested),
            fields=SETTLEMENT_FIELDS,
        )
    locked_client = client_lock(client.pk)
    if payment.idempotency_key is not None:
        existing = _payment_by_key(agency, payment.idempotency_key)
        if existing is not None:
            return BookedPayment(payment=existing, paid=[], recorded=False)
    plan = (
        allocation_spread(oldest_first(invoices.values()), payment.amount_minor)
        if requested is None
        else _checked_plan(requested, invoices, locked_client, payment)
    )
    row_insert(payment)
    payment_book(actor=actor, client=locked_client, payment=payment, plan=plan)
    return BookedPayment(payment=payment, paid=plan, recorded=True)


def payment_book(
    *, actor: User | None, client: Client, payment: Payment, plan: list[tuple[Invoice, int]]
) -> None:
    """Book a saved, succeeded payment: its allocations (written from their values: nothing
    reads them back in this transaction) pay the (locked) invoices, the whole amount reaches
    the ledger (its unallocated rest is the client's credit), the audit trail and the
    client's receipt.

    The audit event and the receipt are written first: the ledger's and the invoices' moves
    take the agency's rollup lock (`rollups.rollups_accumulate`), which the agency's other
    payments wait for until this transaction ends, so it is taken as late as it can be."""
    audit_record(
        agency=payment.agency,
        actor=actor,
        verb=PaymentVerb.RECORDED,
        subject=payment,
        client_id=client.pk,
        data={
            "amount": from_minor(payment.amount_minor, payment.currency),
            "currency": payment.currency,
            "method": payment.method,
            "allocations": {
                str(invoice): from_minor(minor, payment.currency) for invoice, minor in plan
            },
        },
    )
    if client.billing_email:
        _receipt_enqueue(payment=payment, client=client, plan=plan)
    for invoice, minor in plan:
        row_write(
            Allocation, ALLOCATION_COLUMNS, (payment.agency_id, payment.pk, invoice.pk, minor)
        )
        invoice_payment_applied(invoice=invoice, amount_minor=minor)
    ledger_append(
        client=client,
        kind=LedgerEntryKind.PAYMENT_SUCCEEDED,
        document=payment,
        document_reference=str(payment),
        amount_minor=-payment.amount_minor,
        currency=payment.currency,
        occurred_at=clock.now(),
    )


# The columns an allocation is written from; `created_at` takes its default.
ALLOCATION_COLUMNS = ("agency_id", "payment_id", "invoice_id", "amount_minor")


def _checked_plan(
    requested: list[tuple[int, int]],
    invoices: dict[int, Invoice],
    client: Client,
    payment: Payment,
) -> list[tuple[Invoice, int]]:
    plan: list[tuple[Invoice, int]] = []
    for invoice_id, minor in requested:
        invoice = payable_check(
            invoices.get(invoice_id), client, payment.currency, field="allocations"
        )
        if minor > invoice.balance_due_minor:
            due = money_text(invoice.balance_due_minor, invoice.currency)
            raise ValidationError(
                {"allocations": f"{invoice_label(invoice)} has only {due} left to pay."}
            )
        plan.append((invoice, minor))
    allocated = sum(minor for _, minor in plan)
    if allocated > payment.amount_minor:
        currency = payment.currency
        raise ValidationError(
            {
                "allocations": f"The allocations add up to {money_text(allocated, currency)},"
                f" more than the payment of {money_text(payment.amount_minor, currency)}."
            }
        )
    return plan


def _receipt_enqueue(*, payment: Payment, client: Client, plan: list[tuple[Invoice, int]]) -> None:
    allocated = sum(minor for _, minor in plan)
    email_write(
        agency=payment.agency,
        to=[client.billing_email],
        subject=f"{payment.agency.name}: payment received, thank you",
        template="payment_receipt",
        context={
            "payment": payment,
            "client": client,
            "allocations": [(str(invoice), minor) for invoice, minor in plan],
            "credit_minor": payment.amount_minor - allocated,
        },
    )
