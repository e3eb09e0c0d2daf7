"""Allowed payment transitions (DESIGN.md section 4, States)."""

from __future__ import annotations

from clientledger.core.states import TransitionTable, transition_check
from clientledger.payments.models import PaymentStatus, RefundStatus

# A refund that fails gives its amount back, so a (partially) refunded payment can return to
# a state with less refunded.
PAYMENT_TRANSITIONS: TransitionTable = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED, PaymentStatus.SUCCEEDED}
    ),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.REFUNDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.SUCCEEDED}),
}

# Stripe may report a refund failed even after it succeeded (the bank returned it).
REFUND_TRANSITIONS: TransitionTable = {
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset({RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset(),
}


def payment_transition_check(current: str, target: str) -> None:
    transition_check(PAYMENT_TRANSITIONS, "payment", current, target)


def refund_transition_check(current: str, target: str) -> None:
    transition_check(REFUND_TRANSITIONS, "refund", current, target)
