"""Estimate and invoice writers, one module per use case: every write locks its root row,
checks the transition table, audits, and queues its side effects (email, PDF) as outbox rows
in the same transaction."""
