"""Lists of recurring schedules: filtered pages, summaries with the next invoice and MRR, and
a client's or a deal's schedules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.core import clock
from clientledger.core.money import quantize
from clientledger.core.pagination import Page, keyset_page_or_first
from clientledger.crm.models import Client, Deal
from clientledger.lines.pricing import PriceableLine
from clientledger.lines.selectors import LinesValue, lines_value
from clientledger.recurring.calculations import (
    Period,
    first_period_on_or_after,
    monthly_amount,
    periods_from,
    schedule_timing,
)
from clientledger.recurring.models import (
    RecurringSchedule,
    RecurringScheduleLine,
    ScheduleStatus,
)

SCHEDULE_ORDERING = ("name", "id")


def schedule_list(
    *,
    agency: Agency,
    search: str = "",
    status: str = "",
    client_id: int | None = None,
    deal_id: int | None = None,
) -> QuerySet[RecurringSchedule]:
    """The agency's schedules, with their client, found by name or client name."""
    schedules = RecurringSchedule.objects.filter(agency=agency).select_related(
        "agency", "client", "deal"
    )
    if search:
        schedules = schedules.filter(Q(name__icontains=search) | Q(client__name__icontains=search))
    if status:
        schedules = schedules.filter(status=status)
    if client_id is not None:
        schedules = schedules.filter(client_id=client_id)
    if deal_id is not None:
        schedules = schedules.filter(deal_id=deal_id)
    return schedules


@dataclass(frozen=True)
class ScheduleSummary:
    """A schedule with its lines priced: what its next invoice is, and its MRR contribution
    (both None when the lines cannot be priced; `value.pricing_problem` says why)."""

    schedule: RecurringSchedule
    value: LinesValue
    next_invoice_date: dt.date | None

    @property
    def next_amount(self) -> Decimal | None:
        totals = self.value.totals
        return totals.total if totals is not None and self.next_invoice_date else None

    @property
    def net_amount(self) -> Decimal | None:
        totals = self.value.totals
        return sum((line.net for line in totals.lines), Decimal(0)) if totals else None

    @property
    def monthly_recurring(self) -> Decimal | None:
        """The MRR contribution of an active schedule (a paused or ended one bills nothing)."""
        net = self.net_amount
        if net is None or self.schedule.status != ScheduleStatus.ACTIVE:
            return None
        frequency = schedule_timing(self.schedule).frequency
        return quantize(monthly_amount(net, frequency), self.schedule.currency)


def schedule_value(
    schedule: RecurringSchedule, lines: Sequence[PriceableLine] | None = None
) -> LinesValue:
    """The schedule's lines (or `lines`, the editor's rows) priced for its client today."""
    return lines_value(
        list(schedule.lines.all()) if lines is None else lines,
        currency=schedule.currency,
        rounding=schedule.agency.tax_rounding,
        tax_exempt=schedule.client.tax_exempt,
    )


def next_period(schedule: RecurringSchedule, today: dt.date) -> Period | None:
    """The next period the schedule bills: at its cursor when active (a period due already
    is billed by the next run), from today on when paused (no catch-up), none when ended."""
    if schedule.status == ScheduleStatus.ENDED:
        return None
    timing = schedule_timing(schedule)
    first = schedule.next_period_index
    if schedule.status == ScheduleStatus.PAUSED:
        first = first_period_on_or_after(timing, first_index=first, today=today)
    return next(periods_from(timing, first), None)


def schedule_summaries(
    *, agency: Agency, schedules: Iterable[RecurringSchedule]
) -> list[ScheduleSummary]:
    """Each schedule priced, with its lines and their taxes in one query for all of them."""
    rows = list(schedules)
    if not rows:
        return []
    lines: dict[int, list[RecurringScheduleLine]] = {row.pk: [] for row in rows}
    for stored in RecurringScheduleLine.objects.filter(
        agency=agency, schedule_id__in=list(lines)
    ).select_related("service", "tax_1", "tax_2"):
        lines[stored.schedule_id].append(stored)
    today = clock.agency_today(agency)
    summaries = []
    for row in rows:
        period = next_period(row, today)
        summaries.append(
            ScheduleSummary(
                schedule=row,
                value=schedule_value(row, lines[row.pk]),
                next_invoice_date=period.start if period is not None else None,
            )
        )
    return summaries


@dataclass(frozen=True)
class ScheduleListPage:
    page: Page[RecurringSchedule]
    summaries: list[ScheduleSummary]


def schedule_list_page(
    *,
    agency: Agency,
    search: str = "",
    status: str = "",
    after: str | None = None,
    before: str | None = None,
) -> ScheduleListPage:
    """One page of schedules, each priced (two queries whatever the page holds)."""
    page = keyset_page_or_first(
        schedule_list(agency=agency, search=search, status=status),
        ordering=SCHEDULE_ORDERING,
        after=after,
        before=before,
    )
    return ScheduleListPage(page=page, summaries=schedule_summaries(agency=agency, schedules=page))


@dataclass(frozen=True)
class RecordSchedules:
    """The schedules of a client or a deal and their MRR together (in the client's currency)."""

    summaries: list[ScheduleSummary]
    currency: str

    @property
    def monthly_recurring(self) -> Decimal:
        return sum(
            (s.monthly_recurring for s in self.summaries if s.monthly_recurring is not None),
            Decimal(0),
        )


def client_schedules(*, agency: Agency, client: Client) -> RecordSchedules:
    """The client page's schedules, given its agency and client rather than joined copies."""
    schedules = list(
        schedule_list(agency=agency, client_id=client.pk)
        .select_related(None)
        .select_related("deal")
        .order_by(*SCHEDULE_ORDERING)
    )
    for schedule in schedules:
        schedule.agency = agency
        schedule.client = client
    return RecordSchedules(schedule_summaries(agency=agency, schedules=schedules), client.currency)


def deal_schedules(*, agency: Agency, deal: Deal) -> RecordSchedules:
    schedules = schedule_list(agency=agency, deal_id=deal.pk).order_by(*SCHEDULE_ORDERING)
    return RecordSchedules(
        schedule_summaries(agency=agency, schedules=schedules), deal.client.currency
    )
