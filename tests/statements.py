"""Statement counts the tests pin that depend on the database."""

from __future__ import annotations


def rollup_statements(writes: int) -> int:
    """The statements of `writes` reporting-rollup writes (billing.services.rollups): one
    upsert each, which on PostgreSQL takes the agency's rollup lock itself
    (`rollups_accumulate`)."""
    return writes
