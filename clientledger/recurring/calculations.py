"""The dates of a schedule's periods and its monthly-normalized amount: pure, no database.

Period k starts at the anchor plus k intervals, computed from the anchor every time and never
from the previous period or the last run: a late, failed or repeated run cannot move the
billing day. A month step keeps the anchor's day and clamps it to the month's last day when
the month is shorter (31 January, 28 or 29 February, 31 March...). A period ends the day
before the next one starts.

Every date here is a calendar date in the agency's time zone: a moment becomes the agency's
date through `core.clock.agency_today(agency, as_of=moment)` (or `clock.local_today`), so a
run at 23:30 UTC on 31 March bills 1 April's period for an agency in Berlin and not yet for
one in New York.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from clientledger.lines.choices import Recurrence
from clientledger.recurring.models import IntervalUnit, RecurringSchedule, ScheduleEnd

__all__ = [
    "MONTHLY",
    "QUARTERLY",
    "RECURRENCE_FREQUENCIES",
    "YEARLY",
    "Frequency",
    "Period",
    "Timing",
    "add_months",
    "first_period_on_or_after",
    "monthly_amount",
    "next_month_start",
    "period_at",
    "period_start",
    "periods_due",
    "periods_from",
    "schedule_timing",
]

# Weeks and days in a month on average, for the monthly-normalized amount (`monthly_amount`).
WEEKS_PER_YEAR = Decimal(52)
DAYS_PER_YEAR = Decimal(365)
MONTHS_PER_YEAR = Decimal(12)


# The choices' values, listed once: `IntervalUnit.values` makes a new list at each call,
# and a billing run makes a frequency for every schedule it bills.
_INTERVAL_UNITS = frozenset(IntervalUnit.values)


@dataclass(frozen=True)
class Frequency:
    """Every `count` `unit`s: monthly is (month, 1), quarterly (month, 3), yearly (month, 12)."""

    unit: str
    count: int

    def __post_init__(self) -> None:
        if self.unit not in _INTERVAL_UNITS:
            raise ValueError(f"unit: {self.unit!r} is not a day, a week or a month.")
        if self.count < 1:
            raise ValueError("count: the interval must be at least 1.")


MONTHLY = Frequency(IntervalUnit.MONTH, 1)
QUARTERLY = Frequency(IntervalUnit.MONTH, 3)
YEARLY = Frequency(IntervalUnit.MONTH, 12)

# How often a deal line's recurrence bills, for a schedule set up from the deal.
RECURRENCE_FREQUENCIES: dict[str, Frequency] = {
    Recurrence.MONTHLY: MONTHLY,
    Recurrence.QUARTERLY: QUARTERLY,
    Recurrence.YEARLY: YEARLY,
}


@dataclass(frozen=True)
class Period:
    """Period `index` of a schedule, from `start` to `end`, both included."""

    index: int
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Timing:
    """When a schedule bills: its anchor (period `anchor_index` starts on `anchor`), its
    frequency and its end (`ScheduleEnd`: never, no period starting after `end_date`, or
    `end_after_count` periods in all, numbered from 0)."""

    anchor: dt.date
    frequency: Frequency
    anchor_index: int = 0
    end_kind: str = ScheduleEnd.NEVER
    end_date: dt.date | None = None
    end_after_count: int | None = None


def schedule_timing(schedule: RecurringSchedule) -> Timing:
    """The timing a schedule row stores (no query: only its own fields)."""
    return Timing(
        anchor=schedule.start_date,
        frequency=Frequency(schedule.interval_unit, schedule.interval_count),
        anchor_index=schedule.anchor_period_index,
        end_kind=schedule.end_kind,
        end_date=schedule.end_date,
        end_after_count=schedule.end_after_count,
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months`, its day of the month clamped to the target month's length."""
    month_number = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_number, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last_day))


def next_month_start(today: dt.date) -> dt.date:
    """The first day of the month after `today`'s: where a new retainer starts by default."""
    return add_months(today.replace(day=1), 1)


def period_start(anchor: dt.date, frequency: Frequency, steps: int) -> dt.date:
    """The day `steps` intervals after `anchor`, always counted from the anchor."""
    if steps < 0:
        raise ValueError("steps: a period cannot start before the anchor.")
    if frequency.unit == IntervalUnit.MONTH:
        return add_months(anchor, steps * frequency.count)
    days = 7 if frequency.unit == IntervalUnit.WEEK else 1
    return anchor + dt.timedelta(days=steps * frequency.count * days)


def _within_end(timing: Timing, index: int, start: dt.date) -> bool:
    if timing.end_kind == ScheduleEnd.ON_DATE:
        return timing.end_date is not None and start <= timing.end_date
    if timing.end_kind == ScheduleEnd.AFTER_COUNT:
        return timing.end_after_count is not None and index < timing.end_after_count
    return True


# A billing run asks for the same few periods of thousands of schedules (most start on the
# same days), twice each (what is due, then the cursor): timings and periods are frozen
# values, so each is computed once.
@functools.lru_cache(maxsize=4096)
def period_at(timing: Timing, index: int) -> Period | None:
    """Period `index` (counted from 0 over the schedule's whole life), or None when the
    schedule ends before it. Indexes before the anchor's belong to an earlier timing whose
    periods are stored with their dates; asking for one is a mistake."""
    if index < timing.anchor_index:
        raise ValueError(f"index: period {index} comes before the anchor's period.")
    steps = index - timing.anchor_index
    start = period_start(timing.anchor, timing.frequency, steps)
    if not _within_end(timing, index, start):
        return None
    end = period_start(timing.anchor, timing.frequency, steps + 1) - dt.timedelta(days=1)
    return Period(index=index, start=start, end=end)


def periods_from(timing: Timing, first_index: int) -> Iterator[Period]:
    """Every period from `first_index` on until the schedule ends (endless if it never does)."""
    for index in itertools.count(max(first_index, timing.anchor_index)):
        period = period_at(timing, index)
        if period is None:
            return
        yield period


def periods_due(timing: Timing, *, first_index: int, today: dt.date) -> Iterator[Period]:
    """The periods from `first_index` on that have started by `today` (the agency's date):
    every period missed while nothing ran is due, each once, with its own dates."""
    for period in periods_from(timing, first_index):
        if period.start > today:
            return
        yield period


def first_period_on_or_after(timing: Timing, *, first_index: int, today: dt.date) -> int:
    """The index of the first period from `first_index` on that starts on or after `today`
    (or, if the schedule ends before, the index after its last period)."""
    index = max(first_index, timing.anchor_index)
    for period in periods_from(timing, index):
        if period.start >= today:
            return period.index
        index = period.index + 1
    return index


def monthly_amount(amount: Decimal, frequency: Frequency) -> Decimal:
    """What a period's `amount` is worth per month (the schedule's MRR contribution), before
    rounding: quarterly /3, yearly /12, every N weeks x 52/12/N, every N days x 365/12/N."""
    if frequency.unit == IntervalUnit.MONTH:
        return amount / Decimal(frequency.count)
    per_year = WEEKS_PER_YEAR if frequency.unit == IntervalUnit.WEEK else DAYS_PER_YEAR
    return amount * per_year / (MONTHS_PER_YEAR * Decimal(frequency.count))
