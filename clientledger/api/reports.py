"""The dashboard's figures as JSON, per currency, as of any past day: aging (every member,
like the dashboard's receivables), DSO, MRR and revenue (`Perm.REPORTS`). Thin over
reporting's selectors; amounts are decimal strings in the currency's digits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Protocol, TypeVar

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.inputs import IsoDate
from clientledger.api.outputs import DecimalStr, Output, money_str, responses
from clientledger.core import clock
from clientledger.core.money import currency_problem
from clientledger.core.permissions import AgencyRequest
from clientledger.reporting.selectors.aging import aging_by_client, aging_summary
from clientledger.reporting.selectors.common import Bucket, BucketAmount
from clientledger.reporting.selectors.dso import DSO_DEFINITION, dso_trend
from clientledger.reporting.selectors.mrr import mrr_trend
from clientledger.reporting.selectors.revenue import revenue_by_month

reports_router = Router(tags=["reports"])


def operation_id(name: str) -> str:
    return f"clientledger_api_reports_{name}"


class ReportParams(Schema):
    as_of: IsoDate | None = Field(
        None, description="The figures at the end of this day (the agency's date); today if absent."
    )
    currency: str | None = Field(
        None, description="An ISO 4217 code; the agency's default currency if absent."
    )


class HasCurrency(Protocol):
    @property
    def currency(self) -> str: ...


R = TypeVar("R", bound=HasCurrency)


def _in(rows: list[R], currency: str) -> R | None:
    return next((row for row in rows if row.currency == currency), None)


def _params(agency: Agency, params: ReportParams) -> tuple[dt.date, dt.date, str]:
    """(today, as of, currency) checked: a future day or an unknown currency is a 422."""
    today = clock.agency_today(agency)
    as_of = params.as_of or today
    if as_of > today:
        raise ValidationError({"as_of": "Choose today or a past day: the future is not known yet."})
    currency = (params.currency or agency.default_currency).strip().upper()
    problem = currency_problem(currency)
    if problem:
        raise ValidationError({"currency": problem})
    return today, as_of, currency


class BucketOut(Output):
    key: str = Field(description="current, 1-30, 31-60, 61-90 or over-90 (days past due).")
    label: str
    amount: DecimalStr


def _buckets(entries: list[BucketAmount], currency: str) -> list[BucketOut]:
    return [
        BucketOut(
            key=entry.bucket.key, label=entry.bucket.label, amount=money_str(entry.amount, currency)
        )
        for entry in entries
    ]


class ClientAgingOut(Output):
    client_id: int
    client_name: str
    buckets: list[BucketOut]
    total: DecimalStr


class AgingOut(Output):
    as_of: dt.date
    currency: str
    buckets: list[BucketOut]
    total: DecimalStr
    invoice_count: int
    clients: list[ClientAgingOut] = Field(description="Each client's aging, most owed first.")


@reports_router.get(
    "/aging",
    response=responses({200: AgingOut}),
    summary="Invoice aging as of a day",
    description="What each invoice owed at the end of the day, by days past due; a past day "
    "gives the balances of that day.",
    operation_id=operation_id("aging"),
)
def aging(request: AgencyRequest, params: Query[ReportParams]) -> AgingOut:
    agency = require(request, Perm.VIEW)
    today, as_of, currency = _params(agency, params)
    summary = _in(aging_summary(agency=agency, as_of=as_of, today=today), currency)
    clients = aging_by_client(agency=agency, as_of=as_of, today=today, currency=currency)
    nothing = [BucketAmount(bucket=bucket, amount=Decimal(0)) for bucket in Bucket]
    return AgingOut(
        as_of=as_of,
        currency=currency,
        buckets=_buckets(summary.buckets if summary else nothing, currency),
        total=money_str(summary.total if summary else Decimal(0), currency),
        invoice_count=summary.invoice_count if summary else 0,
        clients=[
            ClientAgingOut(
                client_id=row.client_id,
                client_name=row.client_name,
                buckets=_buckets(row.buckets, currency),
                total=money_str(row.total, currency),
            )
            for row in clients
        ],
    )


class DsoPointOut(Output):
    as_of: dt.date
    receivables: DecimalStr
    credit_sales: DecimalStr = Field(description="Invoiced in the 90 days ending that day, net.")
    days: DecimalStr | None = Field(description="None without credit sales in the window.")


class DsoOut(Output):
    currency: str
    definition: str
    points: list[DsoPointOut] = Field(description="Each month's last day, the as-of day last.")


@reports_router.get(
    "/dso",
    response=responses({200: DsoOut}),
    summary="Days sales outstanding over 12 months",
    operation_id=operation_id("dso"),
)
def dso(request: AgencyRequest, params: Query[ReportParams]) -> DsoOut:
    agency = require(request, Perm.REPORTS)
    _, as_of, currency = _params(agency, params)
    trend = _in(dso_trend(agency=agency, today=as_of), currency)
    return DsoOut(
        currency=currency,
        definition=DSO_DEFINITION,
        points=[
            DsoPointOut(
                as_of=point.as_of,
                receivables=money_str(point.receivables, currency),
                credit_sales=money_str(point.credit_sales, currency),
                days=None if point.days is None else str(point.days),
            )
            for point in (trend.points if trend else [])
        ],
    )


class MrrPointOut(Output):
    as_of: dt.date
    mrr: DecimalStr
    schedule_count: int
    new: DecimalStr
    expansion: DecimalStr
    contraction: DecimalStr
    churned: DecimalStr


class MrrScheduleOut(Output):
    schedule_id: int
    name: str
    client_id: int
    mrr: DecimalStr | None = Field(description="None when the schedule's lines cannot be priced.")


class MrrOut(Output):
    currency: str
    points: list[MrrPointOut]
    schedules: list[MrrScheduleOut] = Field(description="Today's active schedules.")


@reports_router.get(
    "/mrr",
    response=responses({200: MrrOut}),
    summary="Monthly recurring revenue over 12 months, with its movements",
    operation_id=operation_id("mrr"),
)
def mrr(request: AgencyRequest, params: Query[ReportParams]) -> MrrOut:
    agency = require(request, Perm.REPORTS)
    today, as_of, currency = _params(agency, params)
    trend = _in(mrr_trend(agency=agency, today=today, as_of=as_of), currency)
    return MrrOut(
        currency=currency,
        points=[
            MrrPointOut(
                as_of=point.as_of,
                mrr=money_str(point.mrr, currency),
                schedule_count=point.schedule_count,
                new=money_str(point.movements.new, currency),
                expansion=money_str(point.movements.expansion, currency),
                contraction=money_str(point.movements.contraction, currency),
                churned=money_str(point.movements.churned, currency),
            )
            for point in (trend.points if trend else [])
        ],
        schedules=[
            MrrScheduleOut(
                schedule_id=summary.schedule.pk,
                name=summary.schedule.name,
                client_id=summary.schedule.client_id,
                mrr=None
                if summary.monthly_recurring is None
                else money_str(summary.monthly_recurring, currency),
            )
            for summary in (trend.schedules if trend else [])
        ],
    )


class RevenueMonthOut(Output):
    month: dt.date = Field(description="The month's first day.")
    invoiced: DecimalStr = Field(description="Issued, net of voids and credit notes.")
    collected: DecimalStr = Field(description="Received, net of refunds and reversals.")


class RevenueOut(Output):
    currency: str
    months: list[RevenueMonthOut]


@reports_router.get(
    "/revenue",
    response=responses({200: RevenueOut}),
    summary="Revenue invoiced and collected per month over 12 months",
    operation_id=operation_id("revenue"),
)
def revenue(request: AgencyRequest, params: Query[ReportParams]) -> RevenueOut:
    agency = require(request, Perm.REPORTS)
    _, as_of, currency = _params(agency, params)
    found = _in(revenue_by_month(agency=agency, today=as_of), currency)
    return RevenueOut(
        currency=currency,
        months=[
            RevenueMonthOut(
                month=month.month,
                invoiced=money_str(month.invoiced, currency),
                collected=money_str(month.collected, currency),
            )
            for month in (found.months if found else [])
        ],
    )
