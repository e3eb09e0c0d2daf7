"""Giving a credit note's credit back as money, out of the payments that paid its invoice."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from clientledger.accounts.models import Agency, User
from clientledger.billing.models import CreditNote, CreditNoteStatus, Invoice
from clientledger.billing.selectors.credits import credit_note_remaining_minor
from clientledger.billing.services.credit_spending import (
    credit_application_add,
)
from clientledger.billing.services.settlement import invoices_lock
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.payments.models import (
    Allocation,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeRequest,
)
from clientledger.payments.selectors import refund_held_minor, refund_invoice_ids
from clientledger.payments.services.common import client_lock, minor_amount, money_text
from clientledger.payments.services.refunds import (
    allocations_take_back,
    refund_record,
)
from clientledger.payments.stripe.amounts import StripeAmountError, to_stripe


def credit_note_refund(
    *, agency: Agency, actor: User | None, credit_note: CreditNote, amount: Decimal, reason: str
) -> list[Refund]:
    """Give part of a credit note's credit back as money, out of the payments that paid its
    invoice (Stripe payments first, then the newest): a Stripe payment is refunded through
    Stripe (pending until Stripe confirms; a failure gives the credit back to the credit note),
    any other is recorded as refunded by hand.

    Each refund takes its money from what its payment paid on the invoice, and the credit
    settles that much of the invoice instead: the invoice's balance does not move, the
    ledger books the refund against the credit note's entry."""
    amount_minor = _credit_note_refund_check(
        agency=agency, credit_note=credit_note, amount=amount, reason=reason
    )
    with transaction.atomic():
        paying = set(
            Allocation.objects.filter(invoice_id=credit_note.invoice_id).values_list(
                "payment_id", flat=True
            )
        )
        invoices = invoices_lock(
            agency=agency,
            ids=refund_invoice_ids(Q(payment_id__in=paying)) | {credit_note.invoice_id},
        )
        invoice = invoices[credit_note.invoice_id]
        client = client_lock(credit_note.client_id)
        locked_note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
        remaining = credit_note_remaining_minor(locked_note)
        if amount_minor > remaining:
            raise ValidationError(
                {
                    "amount": f"Credit note {locked_note} has only "
                    f"{money_text(remaining, locked_note.currency)} of credit left."
                }
            )
        allocations = _invoice_refundable_allocations(invoice)
        received = sum(share for _, share in allocations)
        if amount_minor > received:
            raise ValidationError(
                {
                    "amount": f"Invoice {invoice} received only "
                    f"{money_text(received, invoice.currency)} that can be refunded."
                }
            )
        return _credit_refunds_spread(
            actor=actor,
            allocations=allocations,
            credit_note=locked_note,
            client=client,
            invoices=invoices,
            amount_minor=amount_minor,
            reason=reason.strip(),
        )


def _credit_refunds_spread(
    *,
    actor: User | None,
    allocations: list[tuple[Allocation, int]],
    credit_note: CreditNote,
    client: Client,
    invoices: dict[int, Invoice],
    amount_minor: int,
    reason: str,
) -> list[Refund]:
    """One refund per payment, in the allocations' order, until the amount is given back."""
    refunds: list[Refund] = []
    left = amount_minor
    for allocation, refundable in allocations:
        if left == 0:
            break
        share = min(left, refundable)
        refunds.append(
            _credit_refund_from(
                actor=actor,
                allocation=allocation,
                credit_note=credit_note,
                client=client,
                invoices=invoices,
                amount_minor=share,
                reason=reason,
            )
        )
        left -= share
    return refunds


def _credit_note_refund_check(
    *, agency: Agency, credit_note: CreditNote, amount: Decimal, reason: str
) -> int:
    """Refuse a refund the credit note cannot give before anything is locked; the amount in
    minor units otherwise."""
    if credit_note.agency_id != agency.pk:
        raise ValidationError({"credit_note": "This credit note does not belong to your agency."})
    if credit_note.status != CreditNoteStatus.ISSUED:
        raise ValidationError({"credit_note": "Issue the credit note before refunding it."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the credit is refunded."})
    amount_minor = minor_amount(amount, credit_note.currency, "amount")
    try:
        to_stripe(amount_minor, credit_note.currency)
    except StripeAmountError as refusal:
        raise ValidationError({"amount": str(refusal)}) from None
    return amount_minor


def _invoice_refundable_allocations(invoice: Invoice) -> list[tuple[Allocation, int]]:
    """What each payment paid on the (locked) invoice and can still give back, Stripe
    payments first ("to the card or bank payment of that invoice"), then the newest."""
    allocations = (
        Allocation.objects.filter(
            invoice=invoice,
            payment__status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED),
        )
        .select_related("payment")
        .order_by("-payment__received_on", "-payment_id")
    )
    ordered = sorted(allocations, key=lambda a: a.payment.stripe_payment_intent_id is None)
    result: list[tuple[Allocation, int]] = []
    for allocation in ordered:
        payment = allocation.payment
        refundable = min(allocation.amount_minor, payment.amount_minor - refund_held_minor(payment))
        if refundable > 0:
            result.append((allocation, refundable))
    return result


def _credit_refund_from(
    *,
    actor: User | None,
    allocation: Allocation,
    credit_note: CreditNote,
    client: Client,
    invoices: dict[int, Invoice],
    amount_minor: int,
    reason: str,
) -> Refund:
    payment = Payment.objects.select_for_update().get(pk=allocation.payment_id)
    through_stripe = payment.stripe_payment_intent_id is not None
    invoice = invoices[allocation.invoice_id]
    taken_from = allocations_take_back([allocation], invoices, from_invoices=amount_minor)
    application = credit_application_add(
        credit_note=credit_note,
        invoice=invoice,
        amount_minor=amount_minor,
        actor=actor,
        is_refund=True,
    )
    refund = refund_record(
        actor=actor,
        payment=payment,
        client=client,
        invoices=invoices,
        refund=Refund(
            amount_minor=amount_minor,
            reason=reason,
            status=RefundStatus.PENDING if through_stripe else RefundStatus.SUCCEEDED,
            via_stripe=through_stripe,
            credit_application=application,
            taken_from=taken_from,
        ),
    )
    if through_stripe:
        StripeRequest.objects.create(
            agency_id=payment.agency_id, refund=refund, next_attempt_at=clock.now()
        )
    return refund
