"""Recurring schedules (retainers): the schedules, their periods and the billing run that
turns each period due into an invoice."""
