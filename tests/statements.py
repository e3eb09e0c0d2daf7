"""Statement counts the tests pin that depend on the database."""

from __future__ import annotations

from django.db import connection


def rollup_statements(writes: int) -> int:
    """The statements of `writes` reporting-rollup writes (billing.services.rollups): each an
    upsert, after the agency's rollup lock on PostgreSQL (`rollups_lock`)."""
    return writes * (2 if connection.vendor == "postgresql" else 1)
