"""The dates a business record may carry: issue, due and validity dates of documents, the day
a payment was received, a deal's expected close date.

They lie between 1 January 2000 and 31 December ten years after the current year. A date
outside that window is a typo (a year 0001 invoice would be numbered INV-0001-00001; a year
9999 one overflows its due date), so forms, the API and the services refuse it by this one
rule.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from clientledger.core import clock

__all__ = ["EARLIEST_YEAR", "YEARS_AHEAD", "date_problem", "date_window", "dates_check"]

EARLIEST_YEAR = 2000
YEARS_AHEAD = 10


def date_window() -> tuple[dt.date, dt.date]:
    """The first and last date a record may carry, as of today."""
    this_year = clock.now().year
    return dt.date(EARLIEST_YEAR, 1, 1), dt.date(this_year + YEARS_AHEAD, 12, 31)


def date_problem(value: dt.date, window: tuple[dt.date, dt.date] | None = None) -> str | None:
    """Why `value` cannot be a record's date, or None when it can. `window`: `date_window()`
    when the caller has it (checking several dates)."""
    first, last = window or date_window()
    if first <= value <= last:
        return None
    return f"Enter a date from {first.year} to {last.year}."


def dates_check(**dates: dt.date | None) -> None:
    """ValidationError naming each given date outside the window (None means not given)."""
    # Read once for all the dates: a batch checks two per invoice.
    window = date_window()
    problems = {
        field: problem
        for field, value in dates.items()
        if value is not None and (problem := date_problem(value, window)) is not None
    }
    if problems:
        raise ValidationError(problems)
