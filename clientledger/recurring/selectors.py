"""Reads of recurring schedules: lists, one schedule, its next invoice and MRR contribution,
its preview, and the invoices it made with their payment states. Every read takes the agency;
query counts are tested.

Amounts are the schedule's lines priced through the money engine (`lines.pricing`) as the
billing run prices them: in the client's currency, with the agency's rounding, the tax rates
as they stand today and the client's tax exemption. The MRR contribution is the net of one
period (before tax) per month (`calculations.monthly_amount`: quarterly /3, yearly /12, every
N weeks x 52/12/N, every N days x 365/12/N), rounded to the currency's digits.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, ExpressionWrapper, F, Max, Prefetch, Q, QuerySet
from django.db.models.enums import TextChoices

from clientledger.accounts.models import Agency
from clientledger.billing.models import overdue_condition, partially_paid_condition
from clientledger.core import clock
from clientledger.core.audit import TimelineEntry, timeline_entries
from clientledger.core.money import quantize
from clientledger.core.pagination import Page, keyset_page_or_first
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import record_timeline
from clientledger.lines.calculations.values import LineResult
from clientledger.lines.data import LineData
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
    BillingRun,
    BillingRunFailure,
    RecurringPeriod,
    RecurringSchedule,
    RecurringScheduleLine,
    ScheduleStatus,
)

SCHEDULE_ORDERING = ("name", "id")
PERIOD_ORDERING = ("-period_index", "-id")
PREVIEW_PERIODS = 12
# A client or deal page, and a schedule's page, show its most recent invoices; the page
# of a schedule's invoices shows all, a page at a time.
RECENT_INVOICES = 12


# --- lists ----------------------------------------------------------------------------------


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
    schedules = schedule_list(agency=agency, client_id=client.pk).order_by(*SCHEDULE_ORDERING)
    return RecordSchedules(schedule_summaries(agency=agency, schedules=schedules), client.currency)


def deal_schedules(*, agency: Agency, deal: Deal) -> RecordSchedules:
    schedules = schedule_list(agency=agency, deal_id=deal.pk).order_by(*SCHEDULE_ORDERING)
    return RecordSchedules(
        schedule_summaries(agency=agency, schedules=schedules), deal.client.currency
    )


# --- one schedule ---------------------------------------------------------------------------


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


class PaymentState(TextChoices):
    """What an invoice a schedule made looks like to the staff following its payment."""

    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    OVERDUE = "overdue", "Overdue"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"
    # The period's draft was deleted in review: the period is not billed.
    NOT_BILLED = "not_billed", "Not billed"


@dataclass(frozen=True)
class ScheduleInvoiceRow:
    period: RecurringPeriod
    state: PaymentState


def _payment_state(period: RecurringPeriod) -> PaymentState:
    invoice = period.invoice
    if invoice is None:
        return PaymentState.NOT_BILLED
    if period.invoice_is_overdue:  # type: ignore[attr-defined]
        return PaymentState.OVERDUE
    if period.invoice_is_partially_paid:  # type: ignore[attr-defined]
        return PaymentState.PARTIALLY_PAID
    return PaymentState(invoice.status)


def _periods_with_states(agency: Agency, schedule: RecurringSchedule) -> QuerySet[RecurringPeriod]:
    today = clock.agency_today(agency)
    return (
        RecurringPeriod.objects.filter(agency=agency, schedule=schedule)
        .select_related("invoice")
        .annotate(
            invoice_is_overdue=ExpressionWrapper(
                overdue_condition(today, through="invoice__"), output_field=BooleanField()
            ),
            invoice_is_partially_paid=ExpressionWrapper(
                partially_paid_condition(through="invoice__"), output_field=BooleanField()
            ),
        )
    )


@dataclass(frozen=True)
class ScheduleInvoicesPage:
    page: Page[RecurringPeriod]
    rows: list[ScheduleInvoiceRow]


def schedule_invoices_page(
    *,
    agency: Agency,
    schedule: RecurringSchedule,
    after: str | None = None,
    before: str | None = None,
) -> ScheduleInvoicesPage:
    """The periods the schedule billed, latest first, each with its invoice's payment state
    (paid, open, overdue, partially paid...) decided in SQL by billing's rules: one query."""
    page = keyset_page_or_first(
        _periods_with_states(agency, schedule), ordering=PERIOD_ORDERING, after=after, before=before
    )
    return ScheduleInvoicesPage(
        page=page, rows=[ScheduleInvoiceRow(period, _payment_state(period)) for period in page]
    )


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
        _periods_with_states(agency, schedule).order_by(*PERIOD_ORDERING)[:RECENT_INVOICES]
    )
    return ScheduleOverview(
        summary=summary,
        lines=lines,
        preview=schedule_preview(schedule=schedule, lines=lines),
        invoices=[ScheduleInvoiceRow(p, _payment_state(p)) for p in periods],
        invoice_count=RecurringPeriod.objects.filter(agency=agency, schedule=schedule).count(),
        timeline=timeline_entries(
            record_timeline(
                agency=agency,
                subject_type=RecurringSchedule._meta.label_lower,
                subject_id=schedule.pk,
            )
        ),
    )


def schedule_periods(*, agency: Agency, schedule: RecurringSchedule) -> QuerySet[RecurringPeriod]:
    """The periods a schedule billed, each read with its invoice's payment state (for a
    paginated list of its own; `schedule_invoice_row` turns each into a row)."""
    return _periods_with_states(agency, schedule)


def schedule_invoice_row(period: RecurringPeriod) -> ScheduleInvoiceRow:
    """A period of `schedule_periods` with its payment state."""
    return ScheduleInvoiceRow(period, _payment_state(period))


# --- the billing run ------------------------------------------------------------------------

RECENT_RUNS = 10


@dataclass(frozen=True)
class BillingRunRow:
    """A billing run as one agency sees it: its own failures, and the run's counts only when
    the run billed this agency alone (a run over every agency counts other agencies too)."""

    run: BillingRun
    failures: list[BillingRunFailure]

    @property
    def is_own(self) -> bool:
        return self.run.agency_id is not None


def billing_runs_recent(*, agency: Agency, limit: int = RECENT_RUNS) -> list[BillingRunRow]:
    """The agency's last `limit` billing runs (its own, and those over every agency), latest
    first, each with the schedules it could not bill and why: two queries."""
    runs = list(
        BillingRun.objects.filter(Q(agency=agency) | Q(agency__isnull=True)).order_by(
            "-started_at", "-id"
        )[:limit]
    )
    failures: dict[int, list[BillingRunFailure]] = {run.pk: [] for run in runs}
    for failure in (
        BillingRunFailure.objects.filter(agency=agency, run_id__in=list(failures))
        .select_related("schedule")
        .order_by("schedule__name", "id")
    ):
        assert failure.run_id is not None  # filtered on the runs above
        failures[failure.run_id].append(failure)
    return [BillingRunRow(run=run, failures=failures[run.pk]) for run in runs]


def _still_failing(agency: Agency) -> QuerySet[BillingRunFailure]:
    """Failures whose period is still not billed, of active schedules: a failing schedule
    (the run retries it every time and records each attempt)."""
    return BillingRunFailure.objects.filter(
        agency=agency,
        schedule__status=ScheduleStatus.ACTIVE,
        period_index__gte=F("schedule__next_period_index"),
    )


def schedule_failure(*, agency: Agency, schedule: RecurringSchedule) -> BillingRunFailure | None:
    """Why the billing run last failed to bill this schedule, while that period is still not
    billed; None once billed, paused or ended."""
    return _still_failing(agency).filter(schedule=schedule).order_by("-created_at", "-id").first()


def schedules_failing(*, agency: Agency, schedules: Iterable[RecurringSchedule]) -> dict[int, str]:
    """Which of these schedules are failing (as `schedule_failure`), each with the billing
    run's last reason: one query."""
    latest = (
        _still_failing(agency)
        .filter(schedule_id__in=[schedule.pk for schedule in schedules])
        .values("schedule_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    return dict(
        BillingRunFailure.objects.filter(agency=agency, pk__in=latest).values_list(
            "schedule_id", "reason"
        )
    )
