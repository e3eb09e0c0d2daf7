"""Monthly recurring revenue, per currency, from the retainer schedules.

- Today's MRR is each active schedule's contribution as its own page shows it
  (`recurring.selectors.ScheduleSummary.monthly_recurring`: the net of one period priced
  today, per month by `recurring.calculations.monthly_amount`).
- A past month's MRR is what the schedules billed for the period running on the month's last
  day: the net (before tax) of that period's invoice, issued by then and not void, per month
  by the same `monthly_amount`. So the past never moves when a price changes today.
- Movements between two points, per schedule: new (nothing before), expansion (more),
  contraction (less, not nothing), churned (nothing now).

Three queries (the active schedules, their lines, the periods of the trend); the per-schedule
arithmetic runs in Python because the normalisation rule and the pricing live there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from clientledger.accounts.models import Agency
from clientledger.billing.models import InvoiceStatus
from clientledger.core.money import from_minor, quantize
from clientledger.recurring.calculations import Frequency, monthly_amount
from clientledger.recurring.models import RecurringPeriod, ScheduleStatus
from clientledger.recurring.selectors import ScheduleSummary, schedule_list, schedule_summaries
from clientledger.reporting.selectors.common import currencies_first, day_end, trend_dates


@dataclass(frozen=True)
class MrrMovements:
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churned: Decimal

    @property
    def net(self) -> Decimal:
        return self.new + self.expansion - self.contraction - self.churned


@dataclass(frozen=True)
class MrrPoint:
    as_of: dt.date
    mrr: Decimal
    schedule_count: int
    movements: MrrMovements


@dataclass(frozen=True)
class Mrr:
    currency: str
    points: list[MrrPoint]
    schedules: list[ScheduleSummary]

    @property
    def current(self) -> Decimal:
        return self.points[-1].mrr


def active_schedule_summaries(*, agency: Agency) -> list[ScheduleSummary]:
    """The active schedules priced today, largest MRR first (two queries)."""
    summaries = schedule_summaries(
        agency=agency,
        schedules=schedule_list(agency=agency, status=ScheduleStatus.ACTIVE).order_by("name", "id"),
    )
    return sorted(summaries, key=lambda s: -(s.monthly_recurring or Decimal(0)))


# Per day and currency, each schedule's MRR.
ScheduleValues = dict[dt.date, dict[str, dict[int, Decimal]]]


def billed_mrr(*, agency: Agency, days: list[dt.date]) -> ScheduleValues:
    """Per day, each schedule's MRR from the invoice of its period running that day (one
    query for all days)."""
    values: ScheduleValues = {day: {} for day in days}
    if not days:
        return values
    periods = (
        RecurringPeriod.objects.filter(
            agency=agency,
            start_date__lte=max(days),
            end_date__gte=min(days),
            invoice__isnull=False,
        )
        .exclude(invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.UNCOLLECTIBLE])
        .values_list(
            "schedule_id",
            "start_date",
            "end_date",
            "schedule__interval_unit",
            "schedule__interval_count",
            "invoice__subtotal_minor",
            "invoice__currency",
            "invoice__issued_at",
            "invoice__voided_at",
        )
    )
    for schedule_id, start, end, unit, count, net_minor, currency, issued, voided in periods:
        monthly = quantize(
            monthly_amount(from_minor(net_minor, currency), Frequency(unit, count)), currency
        )
        for day in days:
            moment = day_end(agency, day)
            billed = issued is not None and issued < moment and (voided is None or voided >= moment)
            if start <= day <= end and billed:
                values[day].setdefault(currency, {})[schedule_id] = monthly
    return values


def _movements(before: dict[int, Decimal], after: dict[int, Decimal]) -> MrrMovements:
    new = expansion = contraction = churned = Decimal(0)
    for schedule_id in before.keys() | after.keys():
        was, now = before.get(schedule_id, Decimal(0)), after.get(schedule_id, Decimal(0))
        if not was and now:
            new += now
        elif was and not now:
            churned += was
        elif now > was:
            expansion += now - was
        else:
            contraction += was - now
    return MrrMovements(new=new, expansion=expansion, contraction=contraction, churned=churned)


def mrr_trend(*, agency: Agency, today: dt.date, as_of: dt.date | None = None) -> list[Mrr]:
    """MRR at each trend point per currency, its movements from the point before, and
    today's contributing schedules (the drill-down). A trend ending on a past day (`as_of`)
    reads billed periods only, that day included, and lists no schedules."""
    end = today if as_of is None or as_of >= today else as_of
    days = trend_dates(end)
    # The point before the first one, so the first month has movements too.
    previous_day = days[0].replace(day=1) - dt.timedelta(days=1)
    if end < today:
        by_schedule = billed_mrr(agency=agency, days=[previous_day, *days])
        summaries: list[ScheduleSummary] = []
    else:
        by_schedule = billed_mrr(agency=agency, days=[previous_day, *days[:-1]])
        summaries = active_schedule_summaries(agency=agency)
        by_schedule[today] = {}
    for summary in summaries:
        if summary.monthly_recurring:
            by_schedule[today].setdefault(summary.schedule.currency, {})[summary.schedule.pk] = (
                summary.monthly_recurring
            )
    currencies = {c for values in by_schedule.values() for c in values}
    result = []
    for currency in currencies_first(agency, currencies):
        points = []
        before = by_schedule[previous_day].get(currency, {})
        for day in days:
            after = by_schedule[day].get(currency, {})
            points.append(
                MrrPoint(
                    as_of=day,
                    mrr=sum(after.values(), Decimal(0)),
                    schedule_count=len(after),
                    movements=_movements(before, after),
                )
            )
            before = after
        result.append(
            Mrr(
                currency=currency,
                points=points,
                schedules=[s for s in summaries if s.schedule.currency == currency],
            )
        )
    return result
