"""The policy every agency starts with: a friendly note before the due date, then firmer
reminders 1, 7, 14 and 30 days after it, and two follow-ups of a sent estimate."""

from __future__ import annotations

from dataclasses import dataclass

from clientledger.receivables.models import ReminderTrigger

DEFAULT_POLICY_NAME = "Standard reminders"


@dataclass(frozen=True)
class StepDefault:
    trigger: str
    offset_days: int
    subject: str
    body: str


_SIGNATURE = "\n\nThank you,\n{agency_name}"

DEFAULT_STEPS: tuple[StepDefault, ...] = (
    StepDefault(
        ReminderTrigger.INVOICE_DUE,
        -3,
        "Invoice {document_number} is due on {due_date}",
        "Hello {client_name},\n\nA friendly note that invoice {document_number} for "
        "{amount_due} is due on {due_date}. You can view and pay it here: {pay_link}" + _SIGNATURE,
    ),
    StepDefault(
        ReminderTrigger.INVOICE_DUE,
        1,
        "Invoice {document_number} is now overdue",
        "Hello {client_name},\n\nInvoice {document_number} was due on {due_date} and "
        "{amount_due} is still open. If you have already paid, please ignore this note; "
        "otherwise you can pay it here: {pay_link}" + _SIGNATURE,
    ),
    StepDefault(
        ReminderTrigger.INVOICE_DUE,
        7,
        "Reminder: invoice {document_number} is {days_overdue} days overdue",
        "Hello {client_name},\n\nInvoice {document_number} is {days_overdue} days overdue "
        "with {amount_due} outstanding. Please arrange payment: {pay_link}" + _SIGNATURE,
    ),
    StepDefault(
        ReminderTrigger.INVOICE_DUE,
        14,
        "Second reminder: invoice {document_number} is {days_overdue} days overdue",
        "Hello {client_name},\n\nWe have not yet received payment of {amount_due} for "
        "invoice {document_number}, due on {due_date}. Please pay it or tell us if "
        "anything is wrong: {pay_link}" + _SIGNATURE,
    ),
    StepDefault(
        ReminderTrigger.INVOICE_DUE,
        30,
        "Final reminder: invoice {document_number} is {days_overdue} days overdue",
        "Hello {client_name},\n\nInvoice {document_number} is now {days_overdue} days "
        "overdue with {amount_due} outstanding. Please settle it promptly: {pay_link}" + _SIGNATURE,
    ),
    StepDefault(
        ReminderTrigger.ESTIMATE_SENT,
        7,
        "Any questions about estimate {document_number}?",
        "Hello {client_name},\n\nWe sent you estimate {document_number} a week ago. You can "
        "review, approve or decline it here: {pay_link}" + _SIGNATURE,
    ),
    StepDefault(
        ReminderTrigger.ESTIMATE_EXPIRY,
        -3,
        "Estimate {document_number} expires on {due_date}",
        "Hello {client_name},\n\nEstimate {document_number} is valid until {due_date}. "
        "You can approve it here: {pay_link}" + _SIGNATURE,
    ),
)
