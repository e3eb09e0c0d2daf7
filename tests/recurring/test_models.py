"""The rows themselves: one invoice per period is a database guarantee."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from clientledger.accounts.models import Agency
from clientledger.crm.models import Client
from clientledger.recurring.models import RecurringPeriod, RecurringSchedule, ScheduleEnd


@pytest.fixture
def schedule(agency: Agency, buyer: Client) -> RecurringSchedule:
    return RecurringSchedule.objects.create(
        agency=agency,
        client=buyer,
        currency="USD",
        name="Retainer",
        start_date=dt.date(2026, 1, 31),
    )


def test_a_period_cannot_be_recorded_twice(schedule: RecurringSchedule) -> None:
    dates = {"start_date": dt.date(2026, 1, 31), "end_date": dt.date(2026, 2, 27)}
    RecurringPeriod.objects.create(
        agency=schedule.agency, schedule=schedule, period_index=0, **dates
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RecurringPeriod.objects.create(
            agency=schedule.agency, schedule=schedule, period_index=0, **dates
        )
    assert RecurringPeriod.objects.filter(schedule=schedule).count() == 1


def test_the_database_refuses_an_interval_of_zero(schedule: RecurringSchedule) -> None:
    schedule.interval_count = 0
    with pytest.raises(IntegrityError), transaction.atomic():
        schedule.save()


def test_the_database_refuses_an_end_date_before_the_start(schedule: RecurringSchedule) -> None:
    schedule.end_kind = ScheduleEnd.ON_DATE
    schedule.end_date = dt.date(2025, 12, 31)
    with pytest.raises(IntegrityError), transaction.atomic():
        schedule.save()


def test_a_period_cannot_end_before_it_starts(schedule: RecurringSchedule) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RecurringPeriod.objects.create(
            agency=schedule.agency,
            schedule=schedule,
            period_index=0,
            start_date=dt.date(2026, 2, 1),
            end_date=dt.date(2026, 1, 31),
        )
