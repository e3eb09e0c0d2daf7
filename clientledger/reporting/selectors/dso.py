"""Days sales outstanding, per currency, at the end of each of the last 12 months (today
for the current month):

    DSO = receivables at the end of the day / credit sales of the 90 days ending that day x 90

Receivables are what the invoices owed that day (`common.receivables_on`); credit sales are the
invoices issued in those 90 days, net of voids and credit notes, read from billing's sums of
the ledger per day (`LedgerDay`). Without credit sales in the window DSO is not defined
(None). Two queries over a few thousand rows for the whole trend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import BigIntegerField, Case, F, Q, Sum, Value, When

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerDay
from clientledger.reporting.selectors.common import (
    currencies_first,
    money,
    receivables_on,
    trend_dates,
)
from clientledger.reporting.selectors.revenue import INVOICED_KINDS

DSO_WINDOW_DAYS = 90
DSO_DEFINITION = (
    "DSO = receivables at the end of the day / credit sales of the 90 days ending that day x 90. "
    "Credit sales are the invoices issued in those days, net of voids and credit notes."
)


@dataclass(frozen=True)
class DsoPoint:
    as_of: dt.date
    receivables: Decimal
    credit_sales: Decimal
    days: Decimal | None


@dataclass(frozen=True)
class Dso:
    currency: str
    points: list[DsoPoint]

    @property
    def current(self) -> DsoPoint:
        return self.points[-1]


def dso_days(receivables_minor: int, sales_minor: int) -> Decimal | None:
    """The DSO formula on minor units, to one decimal (half up)."""
    if sales_minor <= 0:
        return None
    days = Decimal(receivables_minor) * DSO_WINDOW_DAYS / Decimal(sales_minor)
    return days.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def dso_trend(*, agency: Agency, today: dt.date, dates: list[dt.date] | None = None) -> list[Dso]:
    """DSO at each of `dates` (the trend's month ends by default), per currency."""
    points = dates if dates is not None else trend_dates(today)
    receivables = receivables_on(agency=agency, days=points)
    sales = {
        row["currency"]: row
        for row in LedgerDay.objects.filter(
            agency=agency,
            kind__in=INVOICED_KINDS,
            day__gt=min(points) - dt.timedelta(days=DSO_WINDOW_DAYS),
            day__lte=max(points),
        )
        .values("currency")
        .annotate(
            **{
                f"sales_{index}": Sum(
                    Case(
                        When(
                            Q(day__gt=day - dt.timedelta(days=DSO_WINDOW_DAYS), day__lte=day),
                            then=F("amount_minor"),
                        ),
                        default=Value(0),
                    ),
                    output_field=BigIntegerField(),
                )
                for index, day in enumerate(points)
            }
        )
    }
    result = []
    for currency in currencies_first(agency, set(receivables) | set(sales)):
        owed = receivables.get(currency, [0] * len(points))
        sold: Mapping[str, Any] = sales.get(currency, {})
        trend = []
        for index, day in enumerate(points):
            owed_minor = owed[index]
            sales_minor = int(sold.get(f"sales_{index}") or 0)
            trend.append(
                DsoPoint(
                    as_of=day,
                    receivables=money(owed_minor, currency),
                    credit_sales=money(sales_minor, currency),
                    days=dso_days(owed_minor, sales_minor),
                )
            )
        result.append(Dso(currency=currency, points=trend))
    return result
