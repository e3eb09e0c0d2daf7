"""Gapless document numbers: taken from a counter row locked in the issuing transaction
(sending an estimate, issuing an invoice)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from clientledger.accounts.models import Agency
from clientledger.accounts.number_formats import format_number
from clientledger.billing.models import DocumentCounter, DocumentSeries


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
    period = counter_period(fmt, on)
    DocumentCounter.objects.get_or_create(agency=agency, series=series, period=period)
    counter = DocumentCounter.objects.select_for_update().get(
        agency=agency, series=series, period=period
    )
    first = counter.last_value + 1
    counter.last_value += count
    counter.save(update_fields=["last_value"])
    return [
        format_number(fmt, on=on, sequence=sequence)
        for sequence in range(first, counter.last_value + 1)
    ]
