"""One schedule: its lines, the preview of its next invoices and everything its page shows."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from clientledger.accounts.models import Agency
from clientledger.core import clock
from clientledger.core.audit import TimelineEntry, timeline_entries
from clientledger.crm.selectors import record_timeline
from clientledger.lines.calculations.values import LineResult
from clientledger.lines.data import LineData
from clientledger.lines.pricing import PriceableLine
from clientledger.recurring.calculations import (
    Period,
    periods_from,
    schedule_timing,
)
from clientledger.recurring.models import (
    RecurringPeriod,
    RecurringSchedule,
    RecurringScheduleLine,
)
from clientledger.recurring.selectors.invoices import (
    PERIOD_ORDERING,
    RECENT_INVOICES,
    ScheduleInvoiceRow,
    period_payment_state,
    periods_with_states,
)
from clientledger.recurring.selectors.lists import ScheduleSummary, next_period, schedule_value

PREVIEW_PERIODS = 12


def schedule_get(*, agency: Agency, pk: int) -> RecurringSchedule:
    """A schedule with its agency, client and deal (raises DoesNotExist)."""
    return RecurringSchedule.objects.select_related("agency", "client", "deal").get(
        agency=agency, pk=pk
    )


def schedule_lines_data(schedule: RecurringSchedule) -> list[LineData]:
    """The schedule's lines as a new invoice takes them (as `deal_lines_data` for a deal)."""
    return [
        LineData.from_line(line)
        for line in schedule.lines.select_related("service", "tax_1", "tax_2")
    ]


@dataclass(frozen=True)
class PreviewRow:
    period: Period
    invoice_date: dt.date
    due_date: dt.date
    total: Decimal | None


def payment_terms_days(schedule: RecurringSchedule) -> int:
    """The schedule's own terms, else the client's (else the agency's)."""
    if schedule.payment_terms_days is not None:
        return schedule.payment_terms_days
    return schedule.client.effective_payment_terms_days


def schedule_preview(
    *,
    schedule: RecurringSchedule,
    lines: Sequence[PriceableLine] | None = None,
    count: int = PREVIEW_PERIODS,
) -> list[PreviewRow]:
    """The next `count` invoices the schedule makes, each dated on its period's first day,
    priced from its lines (or `lines`, an edit not saved yet) with today's tax rates."""
    today = clock.agency_today(schedule.agency)
    first = next_period(schedule, today)
    if first is None:
        return []
    totals = schedule_value(schedule, lines).totals
    terms = dt.timedelta(days=payment_terms_days(schedule))
    return [
        PreviewRow(
            period=period,
            invoice_date=period.start,
            due_date=period.start + terms,
            total=totals.total if totals is not None else None,
        )
        for period in itertools.islice(periods_from(schedule_timing(schedule), first.index), count)
    ]


@dataclass(frozen=True)
class ScheduleOverview:
    """A schedule's page: its priced lines, next invoice, preview and latest invoices."""

    summary: ScheduleSummary
    lines: list[RecurringScheduleLine]
    preview: list[PreviewRow]
    invoices: list[ScheduleInvoiceRow]
    invoice_count: int
    timeline: list[TimelineEntry]

    @property
    def schedule(self) -> RecurringSchedule:
        return self.summary.schedule

    @property
    def priced_lines(self) -> list[tuple[RecurringScheduleLine, LineResult | None]]:
        return self.summary.value.with_results(self.lines)

    @property
    def has_more_invoices(self) -> bool:
        return self.invoice_count > len(self.invoices)


def schedule_overview(*, agency: Agency, pk: int) -> ScheduleOverview:
    """Everything a schedule's page shows, in six queries (raises DoesNotExist)."""
    schedule = (
        RecurringSchedule.objects.select_related("agency", "client", "deal", "created_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=RecurringScheduleLine.objects.select_related("service", "tax_1", "tax_2"),
            )
        )
        .get(agency=agency, pk=pk)
    )
    lines = list(schedule.lines.all())
    today = clock.agency_today(agency)
    period = next_period(schedule, today)
    summary = ScheduleSummary(
        schedule=schedule,
        value=schedule_value(schedule, lines),
        next_invoice_date=period.start if period is not None else None,
    )
    periods = list(
        periods_with_states(agency, schedule).order_by(*PERIOD_ORDERING)[:RECENT_INVOICES]
    )
    return ScheduleOverview(
        summary=summary,
        lines=lines,
        preview=schedule_preview(schedule=schedule, lines=lines),
        invoices=[ScheduleInvoiceRow(p, period_payment_state(p)) for p in periods],
        invoice_count=RecurringPeriod.objects.filter(agency=agency, schedule=schedule).count(),
        timeline=timeline_entries(
            record_timeline(
                agency=agency,
                subject_type=RecurringSchedule._meta.label_lower,
                subject_id=schedule.pk,
            )
        ),
    )
