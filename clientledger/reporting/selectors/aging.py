"""Invoice aging as of any date, per currency: what is owed in each bucket of days past due
(`common.Bucket`), in total, by client, and the invoices of one bucket.

The summary reads billing's rollup of what invoices owed per day and due date
(`common.owed_days`); by client and by invoice, the open invoices as of today and the balances
of that date otherwise (`common.invoices_owing`), so a past aging is what the dashboard showed
that day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.reporting.selectors.common import (
    Bucket,
    BucketAmount,
    bucket_sums,
    buckets_from_row,
    currencies_first,
    invoices_owing,
    money,
    owed_days,
)


@dataclass(frozen=True)
class Aging:
    currency: str
    as_of: dt.date
    buckets: list[BucketAmount]
    total: Decimal
    invoice_count: int


def aging_summary(*, agency: Agency, as_of: dt.date, today: dt.date) -> list[Aging]:
    """One row per currency owed on `as_of` (one query over billing's rollup)."""
    rows = {
        row["currency"]: row
        for row in owed_days(agency=agency, as_of=as_of, today=today)
        .values("currency")
        .annotate(
            total=Sum("owed_minor"),
            invoices=Sum("open_count"),
            **bucket_sums(as_of, amount="owed_minor"),
        )
        if row["total"] or row["invoices"]
    }
    return [
        Aging(
            currency=currency,
            as_of=as_of,
            buckets=buckets_from_row(rows[currency], currency),
            total=money(rows[currency]["total"], currency),
            invoice_count=rows[currency]["invoices"],
        )
        for currency in currencies_first(agency, set(rows))
    ]


@dataclass(frozen=True)
class ClientAging:
    client_id: int
    client_name: str
    currency: str
    buckets: list[BucketAmount]
    total: Decimal
    overdue: Decimal


def aging_by_client(
    *, agency: Agency, as_of: dt.date, today: dt.date, currency: str
) -> list[ClientAging]:
    """Each client's aging in `currency` on `as_of`, most owed first (one query)."""
    rows = (
        invoices_owing(agency=agency, as_of=as_of, today=today)
        .filter(currency=currency)
        .values("client_id", "client__name")
        .annotate(total=Sum("owed"), **bucket_sums(as_of))
        .order_by("-total", "client__name", "client_id")
    )
    result = []
    for row in rows:
        buckets = buckets_from_row(row, currency)
        result.append(
            ClientAging(
                client_id=row["client_id"],
                client_name=row["client__name"],
                currency=currency,
                buckets=buckets,
                total=money(row["total"], currency),
                overdue=sum(
                    (b.amount for b in buckets if b.bucket is not Bucket.CURRENT), Decimal(0)
                ),
            )
        )
    return result


def aging_invoices(
    *,
    agency: Agency,
    as_of: dt.date,
    today: dt.date,
    currency: str,
    bucket: Bucket | None = None,
    client_id: int | None = None,
) -> QuerySet[Invoice]:
    """The invoices owed in `currency` on `as_of` (of one bucket, of one client), oldest due
    first, each annotated `owed` in minor units: a bucket's drill-down and the detail report."""
    invoices = (
        invoices_owing(agency=agency, as_of=as_of, today=today)
        .filter(currency=currency)
        .select_related("client")
    )
    if bucket is not None:
        invoices = invoices.filter(bucket.condition(as_of))
    if client_id is not None:
        invoices = invoices.filter(client_id=client_id)
    return invoices.order_by("due_date", "id")
