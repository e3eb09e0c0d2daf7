"""Refunding a payment by hand or through Stripe, and what a failed refund gives back."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from clientledger.accounts.models import Agency, User
from clientledger.billing.models import (
    Invoice,
    InvoiceStatus,
    LedgerEntryKind,
)
from clientledger.billing.services.credit_spending import (
    credit_application_release,
)
from clientledger.billing.services.ledger import ledger_append
from clientledger.billing.services.settlement import (
    invoice_payment_applied,
    invoice_payment_reversed,
    invoices_lock,
)
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.payments.audit_verbs import PaymentVerb, RefundVerb
from clientledger.payments.models import (
    Allocation,
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeRequest,
)
from clientledger.payments.selectors import (
    refund_held_minor,
    refund_invoice_ids,
)
from clientledger.payments.services.common import (
    allocation_add,
    allocation_change,
    client_lock,
    finance_alert,
    minor_amount,
    money_text,
)
from clientledger.payments.states import payment_transition_check, refund_transition_check
from clientledger.payments.stripe.amounts import StripeAmountError, to_stripe


def payment_refund(
    *, agency: Agency, actor: User | None, payment: Payment, amount: Decimal, reason: str
) -> Refund:
    """Give money of a payment back to the client.

    A Stripe payment is refunded through Stripe: the refund holds its amount at once and is
    pending until Stripe confirms it (the call is an outbox row, made after commit); if it
    fails, the money comes back. Any other payment's refund is recorded as done."""
    if payment.agency_id != agency.pk:
        raise ValidationError({"payment": "This payment does not belong to your agency."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the payment is refunded."})
    amount_minor = minor_amount(amount, payment.currency, "amount")
    through_stripe = payment.stripe_payment_intent_id is not None
    if through_stripe:
        try:
            to_stripe(amount_minor, payment.currency)
        except StripeAmountError as refusal:
            raise ValidationError({"amount": str(refusal)}) from None
    with transaction.atomic():
        locked, client, invoices = _lock_payment(agency, payment.pk)
        refund = refund_hold(
            actor=actor,
            payment=locked,
            client=client,
            invoices=invoices,
            amount_minor=amount_minor,
            reason=reason.strip(),
            status=RefundStatus.PENDING if through_stripe else RefundStatus.SUCCEEDED,
            via_stripe=through_stripe,
        )
        if through_stripe:
            StripeRequest.objects.create(agency=agency, refund=refund, next_attempt_at=clock.now())
    return refund


def _lock_payment(agency: Agency, payment_id: int) -> tuple[Payment, Client, dict[int, Invoice]]:
    """Lock what a refund of the payment moves: its invoices, its client, the payment."""
    invoices = invoices_lock(agency=agency, ids=refund_invoice_ids(Q(payment_id=payment_id)))
    payment = Payment.objects.filter(agency=agency, pk=payment_id).only("client_id").first()
    if payment is None:
        raise ValidationError({"payment": "This payment does not belong to your agency."})
    client = client_lock(payment.client_id)
    return Payment.objects.select_for_update().get(pk=payment_id), client, invoices


def refund_hold(
    *,
    actor: User | None,
    payment: Payment,
    client: Client,
    invoices: dict[int, Invoice],
    amount_minor: int,
    reason: str,
    status: str,
    via_stripe: bool = False,
    stripe_refund_id: str | None = None,
    dispute: Dispute | None = None,
) -> Refund:
    """Take `amount_minor` of a locked payment back from the client.

    The refund takes first from the payment's unallocated rest (the client's credit), then
    from what it paid on its newest invoices (latest due first), which owe that much again:
    a paid invoice reopens. A lost dispute is booked as a payment reversal."""
    allocations = list(
        Allocation.objects.filter(payment=payment).order_by(
            "-invoice__due_date", "-invoice__issue_date", "-invoice_id"
        )
    )
    refundable = _refundable_minor(payment, invoices, allocations, amount_minor)
    unallocated = refundable - sum(allocation.amount_minor for allocation in allocations)
    taken_from = allocations_take_back(
        allocations, invoices, from_invoices=max(0, amount_minor - unallocated)
    )
    return refund_record(
        actor=actor,
        payment=payment,
        client=client,
        invoices=invoices,
        refund=Refund(
            amount_minor=amount_minor,
            reason=reason,
            status=status,
            via_stripe=via_stripe,
            stripe_refund_id=stripe_refund_id,
            dispute=dispute,
            taken_from=taken_from,
        ),
    )


def refund_record(
    *,
    actor: User | None,
    payment: Payment,
    client: Client,
    invoices: dict[int, Invoice],
    refund: Refund,
) -> Refund:
    """Save a refund of the locked payment, set the payment's refund status and book it in
    the ledger: what every way of refunding ends with."""
    refund.agency_id = payment.agency_id
    refund.payment = payment
    refund.currency = payment.currency
    refund.created_by = actor
    refund.save(force_insert=True)
    payment_refund_status_set(payment)
    refund_book(refund=refund, client=client, invoices=invoices, actor=actor)
    return refund


def _refundable_minor(
    payment: Payment,
    invoices: dict[int, Invoice],
    allocations: list[Allocation],
    amount_minor: int,
) -> int:
    """What can still be refunded of the payment, once `amount_minor` is known to fit."""
    if any(allocation.invoice_id not in invoices for allocation in allocations):
        raise ValidationError({"payment": "The payment changed while it was refunded; try again."})
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise ValidationError(
            {"payment": f"A {payment.get_status_display().lower()} payment cannot be refunded."}
        )
    refundable = payment.amount_minor - refund_held_minor(payment)
    if amount_minor > refundable:
        raise ValidationError(
            {"amount": f"At most {money_text(refundable, payment.currency)} can be refunded."}
        )
    return refundable


def allocations_take_back(
    allocations: list[Allocation], invoices: dict[int, Invoice], *, from_invoices: int
) -> dict[str, int]:
    """Take `from_invoices` back from the allocations in their order; each invoice owes its
    share again. What was taken from each invoice, by invoice id."""
    taken_from: dict[str, int] = {}
    for allocation in allocations:
        if from_invoices == 0:
            break
        share = min(allocation.amount_minor, from_invoices)
        allocation_change(allocation, -share)
        invoice_payment_reversed(invoice=invoices[allocation.invoice_id], amount_minor=share)
        taken_from[str(allocation.invoice_id)] = share
        from_invoices -= share
    return taken_from


def refund_book(
    *, refund: Refund, client: Client, invoices: dict[int, Invoice], actor: User | None
) -> None:
    """The refund (or a lost dispute's reversal) in the client's ledger and the audit trail."""
    payment = refund.payment
    reversal = refund.dispute_id is not None
    ledger_append(
        client=client,
        kind=LedgerEntryKind.PAYMENT_REVERSED if reversal else LedgerEntryKind.REFUND,
        document=refund,
        document_reference=str(refund),
        amount_minor=refund.amount_minor,
        currency=payment.currency,
        occurred_at=refund.created_at,
    )
    audit_record(
        agency=payment.agency,
        actor=actor,
        verb=PaymentVerb.REVERSED if reversal else PaymentVerb.REFUNDED,
        subject=payment,
        client_id=payment.client_id,
        data={
            "amount": from_minor(refund.amount_minor, payment.currency),
            "reason": refund.reason,
            "status": refund.status,
            "invoices": {
                str(invoices[int(invoice_id)]): from_minor(minor, payment.currency)
                for invoice_id, minor in refund.taken_from.items()
            },
        },
    )


def payment_refund_status_set(payment: Payment) -> None:
    """A locked payment's status follows the refunds that hold part of it."""
    held = refund_held_minor(payment)
    if held == 0:
        target = PaymentStatus.SUCCEEDED
    elif held == payment.amount_minor:
        target = PaymentStatus.REFUNDED
    else:
        target = PaymentStatus.PARTIALLY_REFUNDED
    if target != payment.status:
        payment_transition_check(payment.status, target)
        payment.status = target
        payment.save(update_fields=["status"])


def refund_succeed(refund: Refund) -> None:
    refund_transition_check(refund.status, RefundStatus.SUCCEEDED)
    refund.status = RefundStatus.SUCCEEDED
    refund.save(update_fields=["status"])
    audit_record(
        agency=refund.payment.agency,
        actor=None,
        verb=RefundVerb.SUCCEEDED,
        subject=refund.payment,
        client_id=refund.payment.client_id,
        data={"amount": from_minor(refund.amount_minor, refund.currency)},
    )


def refund_give_back(*, refund: Refund, invoices: dict[int, Invoice], message: str) -> None:
    """A refund (or a dispute's reversal) that did not stand holds its amount no more: the
    amount pays again the (locked) invoices it came from while they are open; the rest is
    the client's credit. A credit note's refund gives its credit back to the credit note
    first. The caller books it."""
    refund_transition_check(refund.status, RefundStatus.FAILED)
    payment = refund.payment
    refund.status = RefundStatus.FAILED
    refund.failure_message = message
    refund.save(update_fields=["status", "failure_message"])
    if refund.credit_application is not None:
        # The credit the refund spent is the credit note's again; the invoice it settled
        # owes it again until the payment's money below pays it back.
        credit_application_release(application=refund.credit_application, invoices=invoices)
    for invoice_id, minor in refund.taken_from.items():
        invoice = invoices[int(invoice_id)]
        share = min(minor, invoice.balance_due_minor)
        if invoice.status == InvoiceStatus.OPEN and share > 0:
            allocation_add(payment.pk, invoice, share)
            invoice_payment_applied(invoice=invoice, amount_minor=share)
    payment_refund_status_set(payment)


def refund_fail(
    *, refund: Refund, client: Client, invoices: dict[int, Invoice], message: str
) -> None:
    """A refund Stripe could not make gives the money back: the ledger entry is reversed and
    the amount pays again the invoices it came from while they are open; the rest is credit."""
    payment = refund.payment
    refund_give_back(refund=refund, invoices=invoices, message=message)
    ledger_append(
        client=client,
        kind=LedgerEntryKind.REFUND_FAILED,
        document=refund,
        document_reference=str(refund),
        amount_minor=-refund.amount_minor,
        currency=refund.currency,
        occurred_at=clock.now(),
    )
    audit_record(
        agency=payment.agency,
        actor=None,
        verb=RefundVerb.FAILED,
        subject=payment,
        client_id=payment.client_id,
        data={"amount": from_minor(refund.amount_minor, refund.currency), "error": message},
    )
    finance_alert(
        agency=payment.agency,
        subject=f"Refund of {money_text(refund.amount_minor, refund.currency)} failed",
        message=(
            f"Stripe could not refund {money_text(refund.amount_minor, refund.currency)} of"
            f" {payment} from {client.name}: {message or 'no reason given'}. The money is"
            " back on the client's invoices or credit."
        ),
        payment=payment,
    )


def refund_request_failed(*, refund_id: int, message: str) -> Refund:
    """Stripe refused the refund call for good: the refund fails and gives the money back."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    with transaction.atomic():
        payment, client, invoices = _lock_payment(refund.payment.agency, refund.payment_id)
        locked = Refund.objects.select_for_update().get(pk=refund_id)
        locked.payment = payment
        if locked.status != RefundStatus.FAILED:
            refund_fail(refund=locked, client=client, invoices=invoices, message=message)
    return locked
