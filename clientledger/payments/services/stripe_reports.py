"""What Stripe says of one payment, its refunds and its disputes, as our sync reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StripeIntentReport:
    """What Stripe says of one PaymentIntent now; `status` is ours ("" records nothing)."""

    intent_id: str
    invoice_id: int
    status: str
    amount_minor: int
    currency: str
    method: str
    fee_minor: int | None = None
    net_minor: int | None = None
    failure_message: str = ""


@dataclass(frozen=True)
class StripeRefundReport:
    refund_id: str
    # Our refund's id, which Stripe keeps in the refund's metadata when we asked for it.
    local_id: int | None
    status: str
    amount_minor: int
    failure_message: str = ""


@dataclass(frozen=True)
class StripeDisputeReport:
    dispute_id: str
    status: str
    amount_minor: int
    reason: str
