"""Schedules as the billing run finds them (stored rows with their lines and their cursor at
the first period, written directly so that these tests depend only on the models), and what
the billing run's tests check of the numbers it gives."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from typing import Any

from django.core.management import call_command

from clientledger.billing.models import Invoice
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.recurring.calculations import periods_due, schedule_timing
from clientledger.recurring.models import (
    IntervalUnit,
    PeriodAction,
    RecurringPeriod,
    RecurringSchedule,
    RecurringScheduleLine,
)


def schedule_make(
    client: Client,
    lines: list[LineData],
    *,
    start: dt.date,
    on_period: str = PeriodAction.ISSUE,
    unit: str = IntervalUnit.MONTH,
    count: int = 1,
    **fields: Any,
) -> RecurringSchedule:
    schedule = RecurringSchedule.objects.create(
        agency_id=client.agency_id,
        client=client,
        currency=client.currency,
        name=fields.pop("name", f"Retainer of {client.name}"),
        start_date=start,
        next_period_start=start,
        on_period=on_period,
        interval_unit=unit,
        interval_count=count,
        **fields,
    )
    RecurringScheduleLine.objects.bulk_create(
        RecurringScheduleLine(
            agency_id=client.agency_id, schedule=schedule, position=position, **data.fields()
        )
        for position, data in enumerate(lines)
    )
    return schedule


def numbers_are_gapless(numbers: list[str]) -> bool:
    """Every counter (the number without its sequence) runs 1, 2, 3... without a hole."""
    sequences: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        matched = re.fullmatch(r"(.*?)(\d+)", number)
        if matched is None:
            return False
        sequences[matched.group(1)].append(int(matched.group(2)))
    return all(sorted(seq) == list(range(1, len(seq) + 1)) for seq in sequences.values())


def schedules_bulk_make(
    agency_id: int, lines: list[LineData], *, starts: list[dt.date], on_period: str
) -> list[RecurringSchedule]:
    """One client and monthly schedule per start date, in a few multi-row inserts (the
    tests with many schedules)."""
    clients = Client.objects.bulk_create(
        Client(
            agency_id=agency_id,
            name=f"Client {index:05d}",
            billing_email=f"ap{index}@client.example",
            currency="USD",
        )
        for index in range(len(starts))
    )
    schedules = RecurringSchedule.objects.bulk_create(
        RecurringSchedule(
            agency_id=agency_id,
            client=client,
            currency="USD",
            name=f"Retainer {client.name}",
            start_date=start,
            next_period_start=start,
            on_period=on_period,
        )
        for client, start in zip(clients, starts, strict=True)
    )
    RecurringScheduleLine.objects.bulk_create(
        RecurringScheduleLine(
            agency_id=agency_id, schedule=schedule, position=position, **data.fields()
        )
        for schedule in schedules
        for position, data in enumerate(lines)
    )
    return schedules


def assert_every_due_period_billed_once(as_of: dt.date) -> None:
    """Each schedule has exactly its periods due by `as_of`, each with its own invoice; each
    agency's numbers are gapless and every cached balance equals its ledger."""
    periods = RecurringPeriod.objects.all()
    billed: dict[int, list[int]] = {}
    for period in periods.order_by("schedule_id", "period_index"):
        billed.setdefault(period.schedule_id, []).append(period.period_index)
    for schedule in RecurringSchedule.objects.all():
        due = list(periods_due(schedule_timing(schedule), first_index=0, today=as_of))
        assert billed.get(schedule.pk, []) == [period.index for period in due], schedule
    assert Invoice.objects.count() == periods.count() == periods.exclude(invoice=None).count()
    numbers: dict[int, list[str]] = defaultdict(list)
    for agency_id, number in Invoice.objects.values_list("agency_id", "number"):
        numbers[agency_id].append(number)
    assert all(numbers_are_gapless(each) for each in numbers.values())
    call_command("reconcile", stdout=io.StringIO())  # raises on any difference
