"""A schedule's period dates, checked for 36 periods against `dateutil.rrule` and by hand, and
as properties: the billing day never drifts, whatever the anchor."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Literal

import pytest
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from clientledger.core import clock
from clientledger.recurring.calculations import (
    MONTHLY as EVERY_MONTH,
)
from clientledger.recurring.calculations import (
    QUARTERLY,
    Frequency,
    Period,
    Timing,
    add_months,
    first_period_on_or_after,
    monthly_amount,
    next_month_start,
    period_at,
    period_start,
    periods_due,
    periods_from,
)
from clientledger.recurring.calculations import (
    YEARLY as EVERY_YEAR,
)
from clientledger.recurring.models import IntervalUnit, ScheduleEnd

PERIODS = 36


def starts(timing: Timing, count: int = PERIODS) -> list[dt.date]:
    return [period.start for period in itertools.islice(periods_from(timing, 0), count)]


def clamped_monthly(anchor: dt.date, months: int, count: int = PERIODS) -> list[dt.date]:
    """rrule's reading of "the anchor's day, or the month's last day when it has fewer": the
    last of the days 28 to the anchor's day that the month has."""
    days = list(range(28, anchor.day + 1)) if anchor.day >= 28 else [anchor.day]
    rule = rrule(
        MONTHLY,
        dtstart=dt.datetime.combine(anchor, dt.time()),
        interval=months,
        bymonthday=days,
        bysetpos=-1,
        count=count,
    )
    return [moment.date() for moment in rule]


ANCHORS = [
    pytest.param(dt.date(2026, 1, 31), EVERY_MONTH, id="monthly from 31 January"),
    pytest.param(dt.date(2024, 2, 29), EVERY_MONTH, id="monthly from 29 February (leap year)"),
    pytest.param(dt.date(2026, 1, 31), QUARTERLY, id="quarterly from 31 January"),
    pytest.param(dt.date(2026, 8, 30), Frequency(IntervalUnit.MONTH, 2), id="every 2 months"),
    pytest.param(dt.date(2026, 10, 25), EVERY_MONTH, id="monthly from Berlin's end of DST"),
    pytest.param(dt.date(2026, 11, 1), EVERY_MONTH, id="monthly from New York's end of DST"),
]


@pytest.mark.parametrize(("anchor", "frequency"), ANCHORS)
def test_month_steps_match_rrule_for_36_periods(anchor: dt.date, frequency: Frequency) -> None:
    timing = Timing(anchor=anchor, frequency=frequency)
    assert starts(timing) == clamped_monthly(anchor, frequency.count)


def test_the_31st_clamps_to_the_month_end_and_returns_to_the_31st() -> None:
    timing = Timing(anchor=dt.date(2026, 1, 31), frequency=EVERY_MONTH)
    assert starts(timing, 5) == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 31),
    ]
    assert starts(Timing(anchor=dt.date(2028, 1, 31), frequency=EVERY_MONTH), 3)[1] == (
        dt.date(2028, 2, 29)
    )


def test_a_yearly_schedule_from_29_february_bills_on_28_february_in_common_years() -> None:
    anchor = dt.date(2024, 2, 29)
    expected = rrule(
        YEARLY,
        dtstart=dt.datetime(2024, 2, 29),
        bymonth=2,
        bymonthday=[28, 29],
        bysetpos=-1,
        count=PERIODS,
    )
    assert starts(Timing(anchor=anchor, frequency=EVERY_YEAR)) == [m.date() for m in expected]
    assert starts(Timing(anchor=anchor, frequency=EVERY_YEAR), 5) == [
        dt.date(2024, 2, 29),
        dt.date(2025, 2, 28),
        dt.date(2026, 2, 28),
        dt.date(2027, 2, 28),
        dt.date(2028, 2, 29),
    ]


@pytest.mark.parametrize(
    ("anchor", "frequency", "rule_frequency", "interval"),
    [
        pytest.param(
            dt.date(2026, 10, 25), Frequency(IntervalUnit.WEEK, 1), WEEKLY, 1, id="Berlin"
        ),
        pytest.param(dt.date(2026, 11, 1), Frequency(IntervalUnit.WEEK, 2), WEEKLY, 2, id="NY"),
        pytest.param(dt.date(2024, 2, 29), Frequency(IntervalUnit.DAY, 10), DAILY, 10, id="days"),
    ],
)
def test_week_and_day_steps_match_rrule_for_36_periods(
    anchor: dt.date, frequency: Frequency, rule_frequency: Literal[3, 2], interval: int
) -> None:
    rule = rrule(
        rule_frequency,
        dtstart=dt.datetime.combine(anchor, dt.time()),
        interval=interval,
        count=PERIODS,
    )
    assert starts(Timing(anchor=anchor, frequency=frequency)) == [m.date() for m in rule]


def test_a_period_ends_the_day_before_the_next_one_starts() -> None:
    timing = Timing(anchor=dt.date(2026, 1, 31), frequency=EVERY_MONTH)
    assert period_at(timing, 0) == Period(0, dt.date(2026, 1, 31), dt.date(2026, 2, 27))
    assert period_at(timing, 1) == Period(1, dt.date(2026, 2, 28), dt.date(2026, 3, 30))


@pytest.mark.parametrize(
    ("timezone", "moment", "billed_through"),
    [
        # 23:30 UTC on 30 November is 00:30 on 1 December in Berlin: December is due there.
        ("Europe/Berlin", dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC), 1),
        # ...and 18:30 on 30 November in New York: December is not due yet.
        ("America/New_York", dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC), 0),
        ("America/New_York", dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC), 1),
    ],
)
def test_a_run_at_23_30_utc_on_the_last_day_of_the_month_bills_the_local_period(
    timezone: str, moment: dt.datetime, billed_through: int
) -> None:
    timing = Timing(anchor=dt.date(2026, 11, 1), frequency=EVERY_MONTH)
    today = clock.local_today(timezone, as_of=moment)
    due = list(periods_due(timing, first_index=0, today=today))
    assert [period.index for period in due] == list(range(billed_through + 1))


@pytest.mark.parametrize(
    ("timezone", "anchor", "ahead_of_utc"),
    [
        pytest.param("America/New_York", dt.date(2026, 11, 1), False, id="New York"),
        pytest.param("Europe/Berlin", dt.date(2026, 10, 25), True, id="Berlin"),
    ],
)
def test_36_runs_at_23_30_utc_on_the_eve_of_a_period_follow_the_local_calendar(
    timezone: str, anchor: dt.date, ahead_of_utc: bool
) -> None:
    """Anchored on the day DST ends there: at 23:30 UTC on the eve of each of 36 periods it is
    already the period's first day in Berlin (due) and still the eve in New York (not due)."""
    timing = Timing(anchor=anchor, frequency=EVERY_MONTH)
    expected_starts = clamped_monthly(anchor, 1, PERIODS + 1)
    for index, period_first_day in enumerate(expected_starts[1:], start=1):
        eve = period_first_day - dt.timedelta(days=1)
        run_at = dt.datetime.combine(eve, dt.time(23, 30), tzinfo=dt.UTC)
        today = clock.local_today(timezone, as_of=run_at)
        due = list(periods_due(timing, first_index=0, today=today))
        billed = index + 1 if ahead_of_utc else index
        assert [period.start for period in due] == expected_starts[:billed]


def test_end_of_dst_does_not_shift_the_local_date() -> None:
    """New York leaves DST at 06:00 UTC on 1 November 2026; local midnight stays the day's
    boundary on either side of it."""
    new_york = "America/New_York"
    assert clock.local_today(new_york, as_of=dt.datetime(2026, 11, 1, 3, 59, tzinfo=dt.UTC)) == (
        dt.date(2026, 10, 31)
    )
    assert clock.local_today(new_york, as_of=dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC)) == (
        dt.date(2026, 11, 1)
    )
    assert clock.local_today(new_york, as_of=dt.datetime(2026, 11, 2, 4, 59, tzinfo=dt.UTC)) == (
        dt.date(2026, 11, 1)
    )
    assert clock.local_today(new_york, as_of=dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)) == (
        dt.date(2026, 11, 2)
    )


def test_catch_up_yields_every_missed_period_once_with_its_own_dates() -> None:
    timing = Timing(anchor=dt.date(2025, 10, 1), frequency=EVERY_MONTH)
    due = list(periods_due(timing, first_index=0, today=dt.date(2026, 11, 30)))
    assert len(due) == 14
    assert due[0] == Period(0, dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    assert due[-1] == Period(13, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert list(periods_due(timing, first_index=14, today=dt.date(2026, 11, 30))) == []


def test_a_late_run_does_not_move_the_billing_day() -> None:
    timing = Timing(anchor=dt.date(2026, 1, 31), frequency=EVERY_MONTH)
    late = list(periods_due(timing, first_index=1, today=dt.date(2026, 3, 10)))
    assert [period.start for period in late] == [dt.date(2026, 2, 28)]
    later = list(periods_due(timing, first_index=2, today=dt.date(2026, 4, 2)))
    assert [period.start for period in later] == [dt.date(2026, 3, 31)]


def test_a_schedule_ending_on_a_date_starts_no_period_after_it() -> None:
    timing = Timing(
        anchor=dt.date(2026, 1, 1),
        frequency=EVERY_MONTH,
        end_kind=ScheduleEnd.ON_DATE,
        end_date=dt.date(2026, 3, 15),
    )
    assert starts(timing) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert period_at(timing, 3) is None


def test_a_schedule_ending_after_n_invoices_has_n_periods() -> None:
    timing = Timing(
        anchor=dt.date(2026, 1, 1),
        frequency=QUARTERLY,
        end_kind=ScheduleEnd.AFTER_COUNT,
        end_after_count=4,
    )
    assert [period.index for period in periods_from(timing, 0)] == [0, 1, 2, 3]
    assert list(periods_due(timing, first_index=4, today=dt.date(2030, 1, 1))) == []


def test_a_re_anchored_schedule_numbers_its_periods_on() -> None:
    """After a change of frequency, the first unbilled period (here 5) starts on the new anchor."""
    timing = Timing(anchor=dt.date(2026, 7, 1), frequency=QUARTERLY, anchor_index=5)
    assert [(p.index, p.start) for p in itertools.islice(periods_from(timing, 5), 2)] == [
        (5, dt.date(2026, 7, 1)),
        (6, dt.date(2026, 10, 1)),
    ]
    with pytest.raises(ValueError, match="before the anchor"):
        period_at(timing, 4)


def test_an_interval_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Frequency(IntervalUnit.MONTH, 0)


@pytest.mark.parametrize(
    ("frequency", "amount", "monthly"),
    [
        (EVERY_MONTH, "650.00", "650.00"),
        (QUARTERLY, "900.00", "300.00"),
        (EVERY_YEAR, "1200.00", "100.00"),
        (Frequency(IntervalUnit.WEEK, 2), "120.00", "260.00"),
        (Frequency(IntervalUnit.DAY, 365), "1200.00", "100.00"),
    ],
)
def test_the_monthly_amount_normalizes_each_frequency(
    frequency: Frequency, amount: str, monthly: str
) -> None:
    assert monthly_amount(Decimal(amount), frequency) == Decimal(monthly)


anchors = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))
frequencies = st.builds(
    Frequency,
    unit=st.sampled_from(IntervalUnit.values),
    count=st.integers(min_value=1, max_value=24),
)


@given(anchor=anchors, frequency=frequencies, steps=st.integers(min_value=0, max_value=120))
def test_period_starts_strictly_increase_and_periods_tile_the_calendar(
    anchor: dt.date, frequency: Frequency, steps: int
) -> None:
    timing = Timing(anchor=anchor, frequency=frequency)
    this, following = period_at(timing, steps), period_at(timing, steps + 1)
    assert this is not None and following is not None
    assert this.start < following.start
    assert this.end + dt.timedelta(days=1) == following.start


@given(anchor=anchors, months=st.integers(min_value=1, max_value=24), steps=st.integers(0, 240))
def test_a_month_step_never_drifts_from_the_anchor_day(
    anchor: dt.date, months: int, steps: int
) -> None:
    start = period_start(anchor, Frequency(IntervalUnit.MONTH, months), steps)
    month_end = add_months(start.replace(day=1), 1) - dt.timedelta(days=1)
    assert start.day == min(anchor.day, month_end.day)
    assert (start.year * 12 + start.month) - (anchor.year * 12 + anchor.month) == months * steps


# A run up to eleven years after the anchor: every daily period of it is walked.
@settings(deadline=None)
@given(
    anchor=anchors,
    frequency=frequencies,
    first=st.integers(0, 30),
    days_after_anchor=st.integers(min_value=-100, max_value=4000),
)
def test_the_periods_due_are_exactly_those_started_by_today(
    anchor: dt.date, frequency: Frequency, first: int, days_after_anchor: int
) -> None:
    today = anchor + dt.timedelta(days=days_after_anchor)
    timing = Timing(anchor=anchor, frequency=frequency)
    due = list(periods_due(timing, first_index=first, today=today))
    assert [period.index for period in due] == list(range(first, first + len(due)))
    assert all(period.start <= today for period in due)
    following = period_at(timing, first + len(due))
    assert following is not None and following.start > today


@pytest.mark.parametrize(
    ("today", "first"),
    [(dt.date(2026, 11, 24), dt.date(2026, 12, 1)), (dt.date(2026, 12, 31), dt.date(2027, 1, 1))],
)
def test_a_new_retainer_starts_on_the_next_first_of_the_month(
    today: dt.date, first: dt.date
) -> None:
    assert next_month_start(today) == first


def test_a_resumed_schedule_bills_from_the_first_period_starting_today_or_later() -> None:
    timing = Timing(anchor=dt.date(2026, 1, 31), frequency=EVERY_MONTH)

    assert first_period_on_or_after(timing, first_index=2, today=dt.date(2026, 6, 30)) == 5
    assert first_period_on_or_after(timing, first_index=2, today=dt.date(2026, 7, 1)) == 6
    assert first_period_on_or_after(timing, first_index=7, today=dt.date(2026, 7, 1)) == 7
    ending = Timing(
        anchor=dt.date(2026, 1, 1),
        frequency=EVERY_MONTH,
        end_kind=ScheduleEnd.AFTER_COUNT,
        end_after_count=3,
    )
    assert first_period_on_or_after(ending, first_index=1, today=dt.date(2027, 1, 1)) == 3
