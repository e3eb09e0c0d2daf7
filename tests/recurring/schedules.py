"""Schedules as the billing run finds them: stored rows with their lines and their cursor at
the first period, written directly so that these tests depend only on the models."""

from __future__ import annotations

import datetime as dt
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
