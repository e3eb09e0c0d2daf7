"""Receivables: payment reminders, their policies and the client statement of account."""
