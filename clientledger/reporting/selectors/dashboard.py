"""The money half of the dashboard in one currency: each figure of its module, and the
currencies the agency has figures in (the switch). Every member sees the receivables, the
aging and the clients who owe most; the figures of leadership (DSO, MRR, revenue) are read
only for those allowed to see them. A constant number of queries, tested."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clientledger.accounts.models import Agency
from clientledger.reporting.selectors.aging import Aging, aging_summary
from clientledger.reporting.selectors.common import Bucket, BucketAmount, currencies_first
from clientledger.reporting.selectors.dso import Dso, dso_trend
from clientledger.reporting.selectors.mrr import Mrr, mrr_trend
from clientledger.reporting.selectors.receivables import Receivables, receivables_now
from clientledger.reporting.selectors.revenue import Revenue, revenue_by_month
from clientledger.reporting.selectors.top_clients import ClientOwing, top_clients


@dataclass(frozen=True)
class Leadership:
    """DSO, MRR and revenue in the dashboard's currency (None: nothing yet)."""

    dso: Dso | None
    mrr: Mrr | None
    revenue: Revenue | None


@dataclass(frozen=True)
class MoneyDashboard:
    today: dt.date
    currency: str
    currencies: list[str]
    receivables: Receivables
    aging: Aging | None
    top_outstanding: list[ClientOwing]
    top_overdue: list[ClientOwing]
    leadership: Leadership | None

    @property
    def aging_buckets(self) -> list[BucketAmount]:
        """The buckets to show, zero when nothing is owed."""
        if self.aging is not None:
            return self.aging.buckets
        return [BucketAmount(bucket=bucket, amount=Decimal(0)) for bucket in Bucket]

    def chart_data(self) -> dict[str, Any]:
        """What the charts draw, for `json_script` (amounts as strings, exact)."""
        data: dict[str, Any] = {
            "currency": self.currency,
            "aging": {
                "labels": [entry.bucket.label for entry in self.aging_buckets],
                "keys": [entry.bucket.key for entry in self.aging_buckets],
                "amounts": [str(entry.amount) for entry in self.aging_buckets],
            },
        }
        leadership = self.leadership
        if leadership is None:
            return data
        if leadership.dso is not None:
            data["dso"] = {
                "labels": [f"{p.as_of:%b %Y}" for p in leadership.dso.points],
                "days": [None if p.days is None else str(p.days) for p in leadership.dso.points],
            }
        if leadership.mrr is not None:
            data["mrr"] = {
                "labels": [f"{p.as_of:%b %Y}" for p in leadership.mrr.points],
                "amounts": [str(p.mrr) for p in leadership.mrr.points],
            }
        if leadership.revenue is not None:
            data["revenue"] = {
                "labels": [f"{m.month:%b %Y}" for m in leadership.revenue.months],
                "invoiced": [str(m.invoiced) for m in leadership.revenue.months],
                "collected": [str(m.collected) for m in leadership.revenue.months],
            }
        return data


def _in(rows: list[Any], currency: str) -> Any:
    return next((row for row in rows if row.currency == currency), None)


def money_dashboard(
    *, agency: Agency, today: dt.date, currency: str = "", leadership: bool
) -> MoneyDashboard:
    """The dashboard's figures in `currency` (the agency's default when blank or unknown)."""
    receivables = receivables_now(agency=agency, today=today)
    aging = aging_summary(agency=agency, as_of=today, today=today)
    figures: list[Any] = [*receivables, *aging]
    dso: list[Dso] = []
    mrr: list[Mrr] = []
    revenue: list[Revenue] = []
    if leadership:
        dso = dso_trend(agency=agency, today=today)
        mrr = mrr_trend(agency=agency, today=today)
        revenue = revenue_by_month(agency=agency, today=today)
        figures += [*dso, *mrr, *revenue]
    currencies = currencies_first(agency, {row.currency for row in figures})
    if agency.default_currency not in currencies:
        currencies.insert(0, agency.default_currency)
    chosen = currency if currency in currencies else agency.default_currency
    return MoneyDashboard(
        today=today,
        currency=chosen,
        currencies=currencies,
        receivables=_in(receivables, chosen) or Receivables.nothing(chosen),
        aging=_in(aging, chosen),
        top_outstanding=top_clients(agency=agency, today=today, currency=chosen, by="outstanding"),
        top_overdue=top_clients(agency=agency, today=today, currency=chosen, by="overdue"),
        leadership=Leadership(
            dso=_in(dso, chosen), mrr=_in(mrr, chosen), revenue=_in(revenue, chosen)
        )
        if leadership
        else None,
    )
