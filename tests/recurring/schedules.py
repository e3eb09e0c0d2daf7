"""Schedules as the billing run finds them (stored rows with their lines and their cursor at
the first period, written directly so that these tests depend only on the models), and what
the billing run's tests check of the numbers it gives."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.recurring.models import (
    IntervalUnit,
    PeriodAction,
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
