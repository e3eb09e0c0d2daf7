"""Allowed lifecycle transitions (DESIGN.md section 4). Services check every change here."""

from __future__ import annotations

from clientledger.billing.models import CreditNoteStatus, EstimateStatus, InvoiceStatus
from clientledger.core.states import TransitionTable, transition_check

ESTIMATE_TRANSITIONS: TransitionTable = {
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

INVOICE_TRANSITIONS: TransitionTable = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.OPEN}),
    InvoiceStatus.OPEN: frozenset(
        {InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE}
    ),
    InvoiceStatus.PAID: frozenset({InvoiceStatus.OPEN}),
    InvoiceStatus.VOID: frozenset(),
    InvoiceStatus.UNCOLLECTIBLE: frozenset({InvoiceStatus.PAID}),
}

# An issued credit note never changes; what is left of its credit is derived from its
# applications and refunds.
CREDIT_NOTE_TRANSITIONS: TransitionTable = {
    CreditNoteStatus.DRAFT: frozenset({CreditNoteStatus.ISSUED}),
    CreditNoteStatus.ISSUED: frozenset(),
}


def estimate_transition_check(current: str, target: str) -> None:
    transition_check(ESTIMATE_TRANSITIONS, "estimate", current, target)


def invoice_transition_check(current: str, target: str) -> None:
    transition_check(INVOICE_TRANSITIONS, "invoice", current, target)


def credit_note_transition_check(current: str, target: str) -> None:
    transition_check(CREDIT_NOTE_TRANSITIONS, "credit note", current, target)
