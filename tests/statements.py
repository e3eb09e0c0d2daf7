"""Statement counts the tests pin that depend on the database."""

from __future__ import annotations

from django.db import connection


def rollup_statements(writes: int) -> int:
    """The statements of `writes` reporting-rollup writes (billing.services.rollups): each an
    upsert, after the agency's rollup lock on PostgreSQL (`rollups_lock`)."""
    return writes * (2 if connection.vendor == "postgresql" else 1)


def owed_row_statements(writes: int, *, of_deals: int = 0) -> int:
    """The statements that move what clients and deals owe with `writes` balance-move rollup
    writes (`rollups.owed_moves_add`): an UPDATE of the clients each, one of the deals for
    the `of_deals` of them whose invoices have a deal."""
    return writes + of_deals
