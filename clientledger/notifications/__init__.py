"""Outgoing email, through an outbox."""
