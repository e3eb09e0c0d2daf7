"""Revenue per month, per currency, read from the client ledger: the trend from billing's sums
of its entries per day (`LedgerDay`, a few hundred rows), a period by client from the entries
(one query each):

- invoiced, net of credit notes: issued invoices, minus voided ones and credit notes, in the
  month their entry was posted;
- collected: payments received, minus refunds and reversals (a failed refund or a dispute won
  on appeal brings the money back), in the month of their entry.

The ledger is append-only, so a past month never changes after the fact, and a credit note
counts in the month it was issued."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerDay, LedgerEntry, LedgerEntryKind
from clientledger.reporting.selectors.common import (
    currencies_first,
    day_end,
    money,
    month_starts,
)

INVOICED_KINDS = (
    LedgerEntryKind.INVOICE_ISSUED,
    LedgerEntryKind.INVOICE_VOIDED,
    LedgerEntryKind.CREDIT_NOTE_ISSUED,
)
COLLECTED_KINDS = (
    LedgerEntryKind.PAYMENT_SUCCEEDED,
    LedgerEntryKind.PAYMENT_REVERSED,
    LedgerEntryKind.REFUND,
    LedgerEntryKind.REFUND_FAILED,
)


# Over ledger entries or their sums per day (`LedgerDay`): both have a kind and an amount.


def invoiced_sum() -> Sum:
    return Sum(
        Case(When(kind__in=INVOICED_KINDS, then=F("amount_minor")), default=Value(0)),
        output_field=BigIntegerField(),
    )


def collected_sum() -> Sum:
    # Payments lower what the client owes: collected money is the opposite of their entries.
    return Sum(
        Case(When(kind__in=COLLECTED_KINDS, then=-F("amount_minor")), default=Value(0)),
        output_field=BigIntegerField(),
    )


def ledger_between(*, agency: Agency, first: dt.date, last: dt.date) -> QuerySet[LedgerEntry]:
    """The agency's ledger entries posted from `first` to `last`, the agency's dates."""
    return LedgerEntry.objects.filter(
        agency=agency,
        occurred_at__gte=day_end(agency, first - dt.timedelta(days=1)),
        occurred_at__lt=day_end(agency, last),
    )


@dataclass(frozen=True)
class RevenueMonth:
    month: dt.date
    invoiced: Decimal
    collected: Decimal


@dataclass(frozen=True)
class Revenue:
    currency: str
    months: list[RevenueMonth]

    @property
    def invoiced(self) -> Decimal:
        return sum((month.invoiced for month in self.months), Decimal(0))

    @property
    def collected(self) -> Decimal:
        return sum((month.collected for month in self.months), Decimal(0))


def revenue_by_month(*, agency: Agency, today: dt.date) -> list[Revenue]:
    """Invoiced and collected in each of the last 12 months (the current one so far)."""
    starts = month_starts(today)
    rows = (
        LedgerDay.objects.filter(agency=agency, day__gte=starts[0], day__lte=today)
        .annotate(month=TruncMonth("day"))
        .values("currency", "month")
        .annotate(invoiced=invoiced_sum(), collected=collected_sum())
    )
    sums: dict[str, dict[dt.date, tuple[int, int]]] = {}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        sums.setdefault(row["currency"], {})[month] = (row["invoiced"], row["collected"])
    return [
        Revenue(
            currency=currency,
            months=[
                RevenueMonth(
                    month=start,
                    invoiced=money(sums[currency].get(start, (0, 0))[0], currency),
                    collected=money(sums[currency].get(start, (0, 0))[1], currency),
                )
                for start in starts
            ],
        )
        for currency in currencies_first(agency, set(sums))
    ]


@dataclass(frozen=True)
class ClientRevenue:
    client_id: int
    client_name: str
    currency: str
    invoiced: Decimal
    collected: Decimal


def revenue_by_client(
    *, agency: Agency, first: dt.date, last: dt.date, currency: str
) -> list[ClientRevenue]:
    """Each client's invoiced and collected in `currency` from `first` to `last` (one query)."""
    rows = (
        ledger_between(agency=agency, first=first, last=last)
        .filter(currency=currency)
        .values("client_id", "client__name")
        .annotate(invoiced=invoiced_sum(), collected=collected_sum())
        .exclude(Q(invoiced=0) & Q(collected=0))
        .order_by("-invoiced", "client__name", "client_id")
    )
    return [
        ClientRevenue(
            client_id=row["client_id"],
            client_name=row["client__name"],
            currency=currency,
            invoiced=money(row["invoiced"], currency),
            collected=money(row["collected"], currency),
        )
        for row in rows
    ]
