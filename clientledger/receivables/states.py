"""The one move an invoice's reminders make: paused and active again."""

from __future__ import annotations

from clientledger.core.states import TransitionTable, transition_check
from clientledger.receivables.models import InvoiceReminderStatus

INVOICE_REMINDER_TRANSITIONS: TransitionTable = {
    InvoiceReminderStatus.ACTIVE: frozenset({InvoiceReminderStatus.PAUSED}),
    InvoiceReminderStatus.PAUSED: frozenset({InvoiceReminderStatus.ACTIVE}),
}


def invoice_reminder_transition_check(current: str, target: str) -> None:
    transition_check(INVOICE_REMINDER_TRANSITIONS, "reminder schedule", current, target)
