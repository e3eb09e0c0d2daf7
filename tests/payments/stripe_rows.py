"""Stripe-made rows as the webhook processing leaves them, written directly: a bank payment
still processing and an open dispute."""

from __future__ import annotations

from itertools import count

from clientledger.billing.models import Invoice
from clientledger.payments.models import (
    Dispute,
    DisputeStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from tests.payments.conftest import TODAY

_serial = count(1)


def pending_ach_payment(invoice: Invoice, amount_minor: int) -> Payment:
    return Payment.objects.create(
        agency_id=invoice.agency_id,
        client_id=invoice.client_id,
        invoice=invoice,
        method=PaymentMethod.US_BANK_ACCOUNT,
        status=PaymentStatus.PENDING,
        amount_minor=amount_minor,
        currency=invoice.currency,
        received_on=TODAY,
        stripe_payment_intent_id=f"pi_pending_{next(_serial)}",
    )


def open_dispute(invoice: Invoice, *, status: str = DisputeStatus.NEEDS_RESPONSE) -> Dispute:
    payment = Payment.objects.create(
        agency_id=invoice.agency_id,
        client_id=invoice.client_id,
        invoice=invoice,
        method=PaymentMethod.CARD,
        status=PaymentStatus.SUCCEEDED,
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
        received_on=TODAY,
        stripe_payment_intent_id=f"pi_disputed_{next(_serial)}",
    )
    return Dispute.objects.create(
        agency_id=invoice.agency_id,
        payment=payment,
        invoice=invoice,
        stripe_dispute_id=f"dp_{next(_serial)}",
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
        reason="fraudulent",
        status=status,
    )
