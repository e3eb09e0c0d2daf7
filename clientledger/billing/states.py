"""Allowed lifecycle transitions (DESIGN.md section 4). Services check every change here."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from clientledger.billing.models import EstimateStatus, InvoiceStatus
from clientledger.core.error_codes import ErrorCode

ESTIMATE_TRANSITIONS: dict[str, frozenset[str]] = {
    EstimateStatus.DRAFT: frozenset({EstimateStatus.SENT}),
    EstimateStatus.SENT: frozenset(
        {
            EstimateStatus.SENT,
            EstimateStatus.APPROVED,
            EstimateStatus.DECLINED,
            EstimateStatus.EXPIRED,
        }
    ),
    EstimateStatus.APPROVED: frozenset({EstimateStatus.CONVERTED}),
    EstimateStatus.DECLINED: frozenset(),
    EstimateStatus.EXPIRED: frozenset(),
    EstimateStatus.CONVERTED: frozenset(),
}

INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.OPEN}),
    InvoiceStatus.OPEN: frozenset(
        {InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE}
    ),
    InvoiceStatus.PAID: frozenset({InvoiceStatus.OPEN}),
    InvoiceStatus.VOID: frozenset(),
    InvoiceStatus.UNCOLLECTIBLE: frozenset({InvoiceStatus.PAID}),
}


def _check(table: dict[str, frozenset[str]], kind: str, current: str, target: str) -> None:
    if target not in table.get(current, frozenset()):
        article = "An" if current[:1] in "aeiou" else "A"
        raise ValidationError(
            f"{article} {current} {kind} cannot become {target}.", code=ErrorCode.INVALID_TRANSITION
        )


def estimate_transition_check(current: str, target: str) -> None:
    _check(ESTIMATE_TRANSITIONS, "estimate", current, target)


def invoice_transition_check(current: str, target: str) -> None:
    _check(INVOICE_TRANSITIONS, "invoice", current, target)
