"""Statement counts the tests pin that depend on the database."""

from __future__ import annotations

from django.db import connection


def rollup_statements(writes: int) -> int:
    """The statements of `writes` reporting-rollup writes (billing.services.rollups): one
    upsert each, which on PostgreSQL takes the agency's rollup lock itself
    (`rollups_accumulate`)."""
    return writes


def ledger_statements(entries: int) -> int:
    """The statements of `entries` ledger appends (billing.services.ledger.ledger_append):
    the client's balance moved and the entry inserted, in one statement on PostgreSQL
    (`core.rows.row_insert_where_added`)."""
    return entries * (1 if connection.vendor == "postgresql" else 2)
