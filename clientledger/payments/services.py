"""Manual payments, client credit and manual refunds (DESIGN.md section 4, Payments).

Lock order, shared with billing's services (document before client): invoices in id order,
then the client row, then the payment. Every writer of allocations and refunds holds the
client row, so a client's credit cannot change under a service that holds it: two
applications of the same credit run one after the other and the second sees what is left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from clientledger.accounts.models import Agency, User
from clientledger.billing.ledger import ledger_append
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntryKind
from clientledger.billing.states import invoice_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import format_money, from_minor, quantize, to_minor
from clientledger.crm.models import Client
from clientledger.notifications.services import email_enqueue
from clientledger.payments.models import (
    MANUAL_METHODS,
    Allocation,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from clientledger.payments.selectors import payment_credit_rests
from clientledger.payments.states import payment_transition_check

MAX_TEXT = 200


def _minor_amount(amount: Decimal | int, currency: str, field: str) -> int:
    """A positive amount with no more decimals than the currency has, in minor units."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise ValidationError({field: "Enter the amount as a decimal number."})
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValidationError({field: "Enter a finite amount."})
    if amount <= 0:
        raise ValidationError({field: "The amount must be greater than zero."})
    value = Decimal(amount)
    try:
        if quantize(value, currency) != value:
            raise ValidationError({field: f"{currency} amounts cannot have more decimals."})
        return to_minor(value, currency)
    except ValueError:
        raise ValidationError({field: "The amount is too large."}) from None


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor(minor, currency), currency)


def _label(invoice: Invoice) -> str:
    return f"Invoice {invoice}"


def _check_client(agency: Agency, client: Client) -> None:
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "This client does not belong to your agency."})


def _check_payable(invoice: Invoice | None, client: Client, currency: str, field: str) -> Invoice:
    """The invoice, if the client can pay it now: open, the client's, in its currency."""
    if invoice is None or invoice.client_id != client.pk:
        raise ValidationError({field: "This invoice does not belong to the client."})
    if invoice.status != InvoiceStatus.OPEN:
        raise ValidationError(
            {field: f"{_label(invoice)} is {invoice.status}; only open invoices can be paid."}
        )
    if invoice.currency != currency:
        raise ValidationError(
            {field: f"{_label(invoice)} is in {invoice.currency}, not in {currency}."}
        )
    return invoice


def _lock_invoices(agency: Agency, ids: Iterable[int]) -> dict[int, Invoice]:
    # Id order: two services locking overlapping invoices never wait for each other in a
    # circle.
    invoices = Invoice.objects.select_for_update(of=("self",)).filter(
        agency=agency, pk__in=set(ids)
    )
    return {invoice.pk: invoice for invoice in invoices.order_by("pk")}


def _lock_client(client_id: int) -> Client:
    return Client.objects.select_for_update().get(pk=client_id)


def _invoice_paid_add(invoice: Invoice, delta_minor: int) -> None:
    """Move what was paid on a locked invoice; it is paid exactly when nothing is due."""
    invoice.amount_paid_minor += delta_minor
    target = invoice.status
    if invoice.status == InvoiceStatus.OPEN and invoice.balance_due_minor == 0:
        target = InvoiceStatus.PAID
    elif invoice.status == InvoiceStatus.PAID and invoice.balance_due_minor > 0:
        target = InvoiceStatus.OPEN
    if target != invoice.status:
        invoice_transition_check(invoice.status, target)
        invoice.status = target
    invoice.updated_at = clock.now()
    invoice.save(update_fields=["amount_paid_minor", "status", "updated_at"])


def _payment_by_key(agency: Agency, key: str) -> Payment | None:
    return Payment.objects.filter(agency=agency, idempotency_key=key).first()


def _payment_existing(payment: Payment) -> Payment | None:
    """The payment already recorded for the same submission or the same Stripe PaymentIntent."""
    if payment.idempotency_key is not None:
        return _payment_by_key(payment.agency, payment.idempotency_key)
    if payment.stripe_payment_intent_id is not None:
        return Payment.objects.filter(
            stripe_payment_intent_id=payment.stripe_payment_intent_id
        ).first()
    return None


# --- recording a payment -------------------------------------------------------------------


def payment_record_manual(
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
) -> Payment:
    """Record money the client sent, pay its invoices with it and keep the rest as credit.

    Without `allocations` the payment goes to the client's open invoices, oldest due first.
    The same `idempotency_key` twice, even at the same instant, gives the first payment."""
    key = idempotency_key or None
    if key is not None:
        if len(key) > MAX_TEXT:
            raise ValidationError({"idempotency_key": "The idempotency key is too long."})
        existing = _payment_by_key(agency, key)
        if existing is not None:
            return existing
    _check_client(agency, client)
    if currency != client.currency:
        raise ValidationError(
            {"currency": f"{client.name} pays in {client.currency}, not in {currency}."}
        )
    if method not in MANUAL_METHODS:
        raise ValidationError({"method": "Choose bank transfer, check, cash or other."})
    if len(reference) > MAX_TEXT:
        raise ValidationError({"reference": f"Keep the reference under {MAX_TEXT} characters."})
    amount_minor = _minor_amount(amount, currency, "amount")
    requested = None if allocations is None else _requested_allocations(allocations, currency)
    try:
        with transaction.atomic():
            return _payment_record(
                agency=agency,
                actor=actor,
                client=client,
                payment=Payment(
                    agency=agency,
                    client=client,
                    method=method,
                    status=PaymentStatus.SUCCEEDED,
                    amount_minor=amount_minor,
                    currency=currency,
                    received_on=received_on,
                    reference=reference.strip(),
                    notes=notes.strip(),
                    idempotency_key=key,
                    created_by=actor,
                ),
                requested=requested,
            )
    except IntegrityError:
        # A concurrent submission with the same key committed first: it is this payment.
        existing = _payment_by_key(agency, key) if key is not None else None
        if existing is None:
            raise
        return existing


def _requested_allocations(
    allocations: list[tuple[Invoice, Decimal]], currency: str
) -> list[tuple[int, int]]:
    requested: list[tuple[int, int]] = []
    for invoice, amount in allocations:
        if any(invoice.pk == invoice_id for invoice_id, _ in requested):
            raise ValidationError({"allocations": f"{_label(invoice)} is listed twice."})
        requested.append((invoice.pk, _minor_amount(amount, currency, "allocations")))
    return requested


def _payment_record(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    payment: Payment,
    requested: list[tuple[int, int]] | None,
    spread_over: Iterable[int] | None = None,
) -> Payment:
    """Save `payment` with its allocations, ledger entry, audit and receipt, unless the same
    submission or PaymentIntent was recorded already (checked under the locks).

    Without `requested` the payment pays the open invoices among `spread_over` (default: all
    the client's open invoices), oldest due first."""
    if requested is None:
        open_ids = (
            Invoice.objects.filter(
                agency=agency, client=client, status=InvoiceStatus.OPEN
            ).values_list("pk", flat=True)
            if spread_over is None
            else spread_over
        )
        invoices = _lock_invoices(agency, open_ids)
    else:
        invoices = _lock_invoices(agency, (invoice_id for invoice_id, _ in requested))
    locked_client = _lock_client(client.pk)
    existing = _payment_existing(payment)
    if existing is not None:
        return existing
    plan = (
        allocation_spread(oldest_first(invoices.values()), payment.amount_minor)
        if requested is None
        else _checked_plan(requested, invoices, locked_client, payment)
    )
    payment.save(force_insert=True)
    for invoice, minor in plan:
        Allocation.objects.create(
            agency=agency, payment=payment, invoice=invoice, amount_minor=minor
        )
        _invoice_paid_add(invoice, minor)
    # The whole payment reaches the ledger: its unallocated rest is the client's credit.
    ledger_append(
        client=locked_client,
        kind=LedgerEntryKind.PAYMENT_SUCCEEDED,
        document=payment,
        document_reference=str(payment),
        amount_minor=-payment.amount_minor,
        currency=payment.currency,
        occurred_at=payment.created_at,
    )
    audit_record(
        agency=agency,
        actor=actor,
        verb="payment.recorded",
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
    if locked_client.billing_email:
        _receipt_enqueue(payment=payment, client=locked_client, plan=plan)
    return payment


def oldest_first(invoices: Iterable[Invoice]) -> list[Invoice]:
    """Open invoices in the order a payment settles them: earliest due first."""
    return sorted(
        (invoice for invoice in invoices if invoice.status == InvoiceStatus.OPEN),
        key=lambda invoice: (
            invoice.due_date or dt.date.max,
            invoice.issue_date or dt.date.max,
            invoice.pk,
        ),
    )


def allocation_spread(invoices: Iterable[Invoice], amount_minor: int) -> list[tuple[Invoice, int]]:
    """`amount_minor` spread over `invoices` in their order, each up to its balance due."""
    plan: list[tuple[Invoice, int]] = []
    remaining = amount_minor
    for invoice in invoices:
        share = min(remaining, invoice.balance_due_minor)
        if share > 0:
            plan.append((invoice, share))
            remaining -= share
    return plan


def _checked_plan(
    requested: list[tuple[int, int]],
    invoices: dict[int, Invoice],
    client: Client,
    payment: Payment,
) -> list[tuple[Invoice, int]]:
    plan: list[tuple[Invoice, int]] = []
    for invoice_id, minor in requested:
        invoice = _check_payable(
            invoices.get(invoice_id), client, payment.currency, field="allocations"
        )
        if minor > invoice.balance_due_minor:
            due = _money(invoice.balance_due_minor, invoice.currency)
            raise ValidationError({"allocations": f"{_label(invoice)} has only {due} left to pay."})
        plan.append((invoice, minor))
    allocated = sum(minor for _, minor in plan)
    if allocated > payment.amount_minor:
        raise ValidationError(
            {
                "allocations": f"The allocations add up to {_money(allocated, payment.currency)},"
                f" more than the payment of {_money(payment.amount_minor, payment.currency)}."
            }
        )
    return plan


def _receipt_enqueue(*, payment: Payment, client: Client, plan: list[tuple[Invoice, int]]) -> None:
    allocated = sum(minor for _, minor in plan)
    email_enqueue(
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


# --- client credit -------------------------------------------------------------------------


def credit_apply(
    *, agency: Agency, actor: User | None, client: Client, invoice: Invoice, amount: Decimal
) -> list[Allocation]:
    """Pay an open invoice with the client's credit, taken from its oldest payments first.

    No ledger entry: the money reached the ledger when the payment was recorded."""
    _check_client(agency, client)
    amount_minor = _minor_amount(amount, client.currency, "amount")
    with transaction.atomic():
        locked_invoice = _check_payable(
            _lock_invoices(agency, [invoice.pk]).get(invoice.pk),
            client,
            client.currency,
            field="invoice",
        )
        if amount_minor > locked_invoice.balance_due_minor:
            due = _money(locked_invoice.balance_due_minor, locked_invoice.currency)
            raise ValidationError({"amount": f"{_label(locked_invoice)} has only {due} left."})
        locked_client = _lock_client(client.pk)
        sources = payment_credit_rests(agency=agency, client=locked_client)
        credit = sum(rest for _, rest in sources)
        if amount_minor > credit:
            raise ValidationError(
                {"amount": f"The client has only {_money(credit, client.currency)} of credit."}
            )
        applied: list[Allocation] = []
        remaining = amount_minor
        for payment_id, rest in sources:
            if remaining == 0:
                break
            share = min(remaining, rest)
            applied.append(_allocation_add(payment_id, locked_invoice, share))
            remaining -= share
        _invoice_paid_add(locked_invoice, amount_minor)
        audit_record(
            agency=agency,
            actor=actor,
            verb="invoice.credit_applied",
            subject=locked_invoice,
            client_id=client.pk,
            data={
                "amount": from_minor(amount_minor, client.currency),
                "payments": [allocation.payment_id for allocation in applied],
            },
        )
    return applied


def _allocation_add(payment_id: int, invoice: Invoice, minor: int) -> Allocation:
    # One row per (payment, invoice): credit from a payment that already pays part of this
    # invoice grows that allocation.
    allocation, created = Allocation.objects.get_or_create(
        payment_id=payment_id,
        invoice=invoice,
        defaults={"agency_id": invoice.agency_id, "amount_minor": minor},
    )
    if not created:
        allocation.amount_minor += minor
        allocation.save(update_fields=["amount_minor"])
    return allocation


# --- refunds -------------------------------------------------------------------------------


def payment_refund_manual(
    *, agency: Agency, actor: User | None, payment: Payment, amount: Decimal, reason: str
) -> Refund:
    """Record money given back to the client.

    The refund takes first from the payment's unallocated rest (the client's credit), then
    from what it paid on its newest invoices (latest due first), which owe that much again:
    a paid invoice reopens."""
    if payment.agency_id != agency.pk:
        raise ValidationError({"payment": "This payment does not belong to your agency."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the payment is refunded."})
    amount_minor = _minor_amount(amount, payment.currency, "amount")
    with transaction.atomic():
        invoice_ids = Allocation.objects.filter(payment=payment).values_list(
            "invoice_id", flat=True
        )
        invoices = _lock_invoices(agency, invoice_ids)
        locked_client = _lock_client(payment.client_id)
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        allocations = list(
            Allocation.objects.filter(payment=locked).order_by(
                "-invoice__due_date", "-invoice__issue_date", "-invoice_id"
            )
        )
        if any(allocation.invoice_id not in invoices for allocation in allocations):
            raise ValidationError(
                {"payment": "The payment changed while it was refunded; try again."}
            )
        if locked.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
            raise ValidationError(
                {"payment": f"A {locked.get_status_display().lower()} payment cannot be refunded."}
            )
        refunded = (
            locked.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(
                total=Sum("amount_minor")
            )["total"]
            or 0
        )
        refundable = locked.amount_minor - refunded
        if amount_minor > refundable:
            raise ValidationError(
                {"amount": f"At most {_money(refundable, locked.currency)} can be refunded."}
            )
        unallocated = refundable - sum(allocation.amount_minor for allocation in allocations)
        from_invoices = max(0, amount_minor - unallocated)
        reopened: dict[str, Decimal] = {}
        for allocation in allocations:
            if from_invoices == 0:
                break
            share = min(allocation.amount_minor, from_invoices)
            if share == allocation.amount_minor:
                allocation.delete()
            else:
                allocation.amount_minor -= share
                allocation.save(update_fields=["amount_minor"])
            invoice = invoices[allocation.invoice_id]
            _invoice_paid_add(invoice, -share)
            reopened[str(invoice)] = from_minor(share, locked.currency)
            from_invoices -= share
        refund = Refund.objects.create(
            agency=agency,
            payment=locked,
            amount_minor=amount_minor,
            currency=locked.currency,
            reason=reason.strip(),
            status=RefundStatus.SUCCEEDED,
            created_by=actor,
        )
        target = (
            PaymentStatus.REFUNDED
            if amount_minor == refundable
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        payment_transition_check(locked.status, target)
        locked.status = target
        locked.save(update_fields=["status"])
        ledger_append(
            client=locked_client,
            kind=LedgerEntryKind.REFUND,
            document=refund,
            document_reference=str(refund),
            amount_minor=amount_minor,
            currency=locked.currency,
            occurred_at=refund.created_at,
        )
        audit_record(
            agency=agency,
            actor=actor,
            verb="payment.refunded",
            subject=locked,
            client_id=locked.client_id,
            data={
                "amount": from_minor(amount_minor, locked.currency),
                "reason": refund.reason,
                "invoices": reopened,
            },
        )
    return refund


# --- Stripe --------------------------------------------------------------------------------


def payment_record_stripe(
    *,
    agency: Agency,
    invoice_id: int,
    payment_intent_id: str,
    amount_minor: int,
    currency: str,
) -> Payment:
    """Record a card payment Stripe reports as succeeded, once per PaymentIntent.

    The money arrived whatever happened to the invoice meanwhile: it pays what the invoice
    still owes and the rest becomes the client's credit."""
    invoice = Invoice.objects.select_related("client").filter(agency=agency, pk=invoice_id).first()
    if invoice is None:
        raise ValidationError({"invoice": f"Invoice #{invoice_id} is not this agency's."})
    client = invoice.client
    if currency != client.currency:
        raise ValidationError(
            {"currency": f"{client.name} pays in {client.currency}, not in {currency}."}
        )
    if amount_minor <= 0:
        raise ValidationError({"amount": "The amount must be greater than zero."})
    with transaction.atomic():
        return _payment_record(
            agency=agency,
            actor=None,
            client=client,
            payment=Payment(
                agency=agency,
                client=client,
                method=PaymentMethod.CARD,
                status=PaymentStatus.SUCCEEDED,
                amount_minor=amount_minor,
                currency=currency,
                received_on=clock.agency_today(agency),
                reference=payment_intent_id,
                stripe_payment_intent_id=payment_intent_id,
            ),
            requested=None,
            spread_over=[invoice.pk],
        )
