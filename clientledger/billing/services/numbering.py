"""Gapless document numbers: taken from a counter row locked in the issuing transaction
(sending an estimate, issuing an invoice)."""

from __future__ import annotations

import datetime as dt

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from clientledger.accounts.models import Agency
from clientledger.accounts.number_formats import format_number
from clientledger.billing.models import DocumentCounter, DocumentSeries
from clientledger.core.cursors import statement_cursor


def counter_period(fmt: str, on: dt.date) -> str:
    """Sequences restart with each period the format shows: monthly, yearly or never."""
    if "{MM}" in fmt:
        return f"{on.year:04d}-{on.month:02d}"
    if "{YYYY}" in fmt or "{YY}" in fmt:
        return f"{on.year:04d}"
    return ""


def series_format(agency: Agency, series: str) -> str:
    formats: dict[str, str] = {
        DocumentSeries.ESTIMATE: agency.estimate_number_format,
        DocumentSeries.INVOICE: agency.invoice_number_format,
        DocumentSeries.CREDIT_NOTE: agency.credit_note_number_format,
    }
    return formats[series]


def number_take(*, agency: Agency, series: str, on: dt.date) -> str:
    """The next number of `series`; must run inside the transaction that uses it, so a
    rollback returns the number and no gap is left."""
    return numbers_take(agency=agency, series=series, on=on, count=1)[0]


def numbers_take(*, agency: Agency, series: str, on: dt.date, count: int) -> list[str]:
    """The next `count` numbers of `series` for documents dated `on`, in order, under one lock
    of the counter row (a batch writer takes a block in one round trip, not one per document);
    inside the transaction that uses them, as `number_take`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers_take() must run inside the issuing transaction")
    if count < 1:
        raise ValueError(f"count: take at least one number, not {count}")
    fmt = series_format(agency, series)
    last = _counter_advance(
        agency_id=agency.pk, series=series, period=counter_period(fmt, on), by=count
    )
    return [
        format_number(fmt, on=on, sequence=sequence)
        for sequence in range(last - count + 1, last + 1)
    ]


def _counter_advance(*, agency_id: int, series: str, period: str, by: int) -> int:
    """Move the period's counter on by `by` and answer its new last value, making the row on
    the period's first number: one upsert, which holds the row's lock until the transaction
    ends (PostgreSQL and SQLite both have INSERT ... ON CONFLICT ... RETURNING; the ORM's
    get-or-create, lock and save took four round trips)."""
    quote = connection.ops.quote_name
    table = quote(DocumentCounter._meta.db_table)
    last_value = quote("last_value")
    with statement_cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('agency_id')}, {quote('series')}, {quote('period')},"
            f" {last_value}) VALUES (%s, %s, %s, %s)"
            f" ON CONFLICT ({quote('agency_id')}, {quote('series')}, {quote('period')})"
            f" DO UPDATE SET {last_value} = {table}.{last_value} + EXCLUDED.{last_value}"
            f" RETURNING {last_value}",
            [agency_id, series, period, by],
        )
        (last,) = cursor.fetchone()
    return int(last)
