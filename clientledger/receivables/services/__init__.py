"""Receivables writes: reminder policies, the reminder sweep (decide, then send) and its emails."""
