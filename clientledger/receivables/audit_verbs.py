"""What the trail records about reminder policies, pauses and the reminders sent."""

from __future__ import annotations

from clientledger.core.audit_verbs import AuditVerb, Phrase


class ReminderPolicyVerb(AuditVerb):
    CREATED = "reminder_policy.created", Phrase.ACTION_FIRST
    UPDATED = "reminder_policy.updated", Phrase.ACTION_FIRST


class ClientRemindersVerb(AuditVerb):
    POLICY_SET = "client_reminders.policy_set"


class InvoiceRemindersVerb(AuditVerb):
    PAUSED = "invoice_reminders.paused"
    RESUMED = "invoice_reminders.resumed"
    REMINDER_SENT = "invoice_reminders.reminder_sent"


class EstimateRemindersVerb(AuditVerb):
    REMINDER_SENT = "estimate_reminders.reminder_sent"


class StatementVerb(AuditVerb):
    SENT = "statement.sent"
