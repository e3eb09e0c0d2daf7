"""Allowed payment transitions (DESIGN.md section 4, States)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from clientledger.payments.models import PaymentStatus

PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
    ),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
}


def payment_transition_check(current: str, target: str) -> None:
    if target not in PAYMENT_TRANSITIONS.get(current, frozenset()):
        raise ValidationError(
            f"A {current.replace('_', ' ')} payment cannot become {target.replace('_', ' ')}.",
            code="invalid_transition",
        )
