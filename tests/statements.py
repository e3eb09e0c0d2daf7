"""Statement counts the tests pin that depend on the database."""

from __future__ import annotations

from django.db import connection


def rollup_statements(writes: int) -> int:
    """The statements of `writes` reporting-rollup writes (billing.services.rollups): one
    upsert each, which on PostgreSQL takes the agency's rollup lock itself
    (`rollups_accumulate`)."""
    return writes


def owed_row_statements(writes: int, *, of_deals: int = 0) -> int:
    """The statements that move what clients and deals owe with `writes` balance-move rollup
    writes (`rollups.owed_moves_add`): an UPDATE of the clients each, one of the deals for
    the `of_deals` of them whose invoices have a deal."""
    return writes + of_deals


def ledger_statements(entries: int) -> int:
    """The statements of `entries` ledger appends (billing.services.ledger.ledger_append):
    the client's balance moved and the entry inserted, in one statement on PostgreSQL
    (`core.rows.row_write_where_added`)."""
    return entries * (1 if connection.vendor == "postgresql" else 2)
