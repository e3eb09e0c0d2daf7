"""What the dashboard's figures share: the moment a date ends for the agency, an invoice's
balance as of that moment, the aging buckets and the months of a trend.

An invoice's balance as of a date is read from dated facts only, so the aging of a past date
is what the dashboard showed that day: the invoice counts once issued (`issued_at`) and until
voided (`voided_at`), minus the allocations of payments and credit made by then
(`Allocation.created_at`, the moment the money reached the ledger, less the changes made to
them since: `AllocationChange`, credit added to an allocation or a refund taking it back) and
minus the credit notes' credit spent on it by then and not given back
(`CreditApplication.created_at` and `released_at`). An uncollectible invoice (no date
recorded) leaves the receivables entirely. The invoice-by-invoice reports (aging by client,
its invoices) read these facts.

The totals (receivables, aging, DSO) read billing's rollup `OwedDay` instead: each move of an
invoice's balance added, as it was made, to its day and due date, so their cost does not grow
with the invoices. Both agree with what the dashboard showed on any past day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BigIntegerField as BigIntegerOutput
from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import CreditApplication, Invoice, InvoiceStatus, OwedDay
from clientledger.billing.selectors.common import balance_minor
from clientledger.core.money import from_minor
from clientledger.payments.models import Allocation, AllocationChange

# The trends show the last twelve months, the current one included.
TREND_MONTHS = 12
# "Due soon" on the receivables card: due today or within this many days.
DUE_SOON_DAYS = 30


def day_end(agency: Agency, day: dt.date) -> dt.datetime:
    """The first moment after `day` in the agency's timezone: facts before it count on `day`."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, ZoneInfo(agency.timezone))


def month_starts(today: dt.date, count: int = TREND_MONTHS) -> list[dt.date]:
    """The first days of the last `count` months, oldest first, the current month last."""
    starts = []
    year, month = today.year, today.month
    for _ in range(count):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def month_end(start: dt.date) -> dt.date:
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def trend_dates(today: dt.date) -> list[dt.date]:
    """The point of each trend month: its last day, and today for the current month."""
    return [min(month_end(start), today) for start in month_starts(today)]


def money(minor: int | None, currency: str) -> Decimal:
    return from_minor(int(minor or 0), currency)


# --- an invoice's balance as of a moment ----------------------------------------------------


def credit_applied_on(moment: dt.datetime) -> Q:
    """Credit note applications spent before `moment` and not released by then (a release
    gives the credit back when the refund it was spent for failed)."""
    return Q(created_at__lt=moment) & (Q(released_at__isnull=True) | Q(released_at__gte=moment))


def credited_as_of(moment: dt.datetime) -> Coalesce:
    """What credit notes took off the invoice by `moment`: their applications then standing.
    Now it is `amount_credited_minor`, which billing keeps equal to the unreleased
    applications (`clientledger reconcile` checks it)."""
    credited = (
        CreditApplication.objects.filter(credit_applied_on(moment), invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return Coalesce(Subquery(credited), Value(0))


def allocated_as_of(moment: dt.datetime) -> CombinedExpression:
    """What payments' allocations had paid of the invoice at `moment`: those made before it,
    as they stand now, less what changed them since (grown by more credit, or taken back by a
    refund: payments' `AllocationChange`)."""
    allocated = (
        Allocation.objects.filter(invoice=OuterRef("pk"), created_at__lt=moment)
        .values("invoice")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    changed_since = (
        AllocationChange.objects.filter(
            invoice=OuterRef("pk"), allocated_at__lt=moment, created_at__gte=moment
        )
        .values("invoice")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return Coalesce(Subquery(allocated), Value(0)) - Coalesce(Subquery(changed_since), Value(0))


def receivable_on(moment: dt.datetime) -> Q:
    """Issued before `moment` and not voided by then (drafts and uncollectible never count)."""
    return (
        Q(issued_at__lt=moment)
        & ~Q(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.UNCOLLECTIBLE])
        & (Q(voided_at__isnull=True) | Q(voided_at__gte=moment))
    )


def balance_as_of(moment: dt.datetime) -> ExpressionWrapper:
    return ExpressionWrapper(
        F("total_minor") - allocated_as_of(moment) - credited_as_of(moment),
        output_field=BigIntegerOutput(),
    )


def owed_days(*, agency: Agency, as_of: dt.date, today: dt.date) -> QuerySet[OwedDay]:
    """The moves of what the agency's invoices owe up to the end of `as_of` (billing's
    rollup, `OwedDay`): summed per due date, what each due date's invoices owed that day.
    Today's are all of them: the same sums as the open invoices' balances."""
    days = OwedDay.objects.filter(agency=agency)
    return days if as_of >= today else days.filter(day__lte=as_of)


def receivables_on(*, agency: Agency, days: list[dt.date]) -> dict[str, list[int]]:
    """What all invoices owed at the end of each of `days`, per currency, in minor units:
    the sum of `balance_as_of` over the invoices `receivable_on` each day, read from billing's
    rollup of its moves (one query over a few thousand rows, whatever the number of
    invoices)."""
    sums = (
        OwedDay.objects.filter(agency=agency, day__lte=max(days))
        .values("currency")
        .annotate(
            **{
                f"at_{index}": Sum(
                    Case(When(day__lte=day, then=F("owed_minor")), default=Value(0)),
                    output_field=BigIntegerOutput(),
                )
                for index, day in enumerate(days)
            }
        )
    )
    names = [f"at_{index}" for index in range(len(days))]
    return {
        currency: [int(value or 0) for value in values]
        for currency, *values in sums.values_list("currency", *names)
    }


def open_balance() -> ExpressionWrapper:
    """Today's balance of an open invoice, from the totals billing keeps current with every
    ledger entry: the same as `balance_as_of` now, without reading the allocations."""
    return ExpressionWrapper(balance_minor(), output_field=BigIntegerOutput())


def invoices_owing(*, agency: Agency, as_of: dt.date, today: dt.date) -> QuerySet[Invoice]:
    """The agency's invoices with something owed at the end of `as_of`, annotated `owed`.

    Today's are the open invoices (the partial indexes on open invoices serve them); a past
    date reads the dated facts of every invoice issued by then."""
    invoices = Invoice.objects.filter(agency=agency)
    if as_of >= today:
        return invoices.filter(status=InvoiceStatus.OPEN).annotate(owed=open_balance())
    moment = day_end(agency, as_of)
    return (
        invoices.filter(receivable_on(moment))
        .annotate(owed=balance_as_of(moment))
        .filter(owed__gt=0)
    )


# --- aging buckets --------------------------------------------------------------------------


class Bucket(Enum):
    """Days past due on the as-of date (an invoice is past due the day after its due date)."""

    CURRENT = ("current", "Current", None, 0)  # not past due, however early
    DAYS_1_30 = ("1-30", "1-30 days", 1, 30)
    DAYS_31_60 = ("31-60", "31-60 days", 31, 60)
    DAYS_61_90 = ("61-90", "61-90 days", 61, 90)
    OVER_90 = ("over-90", "Over 90 days", 91, None)

    def __init__(self, key: str, label: str, first_day: int | None, last_day: int | None) -> None:
        self.key = key
        self.label = label
        self.first_day = first_day
        self.last_day = last_day

    def condition(self, as_of: dt.date) -> Q:
        """The invoices of this bucket on `as_of`, by their due date."""
        if self.first_day is None:
            return Q(due_date__isnull=True) | Q(due_date__gte=as_of)
        condition = Q(due_date__lte=as_of - dt.timedelta(days=self.first_day))
        if self.last_day is not None:
            condition &= Q(due_date__gte=as_of - dt.timedelta(days=self.last_day))
        return condition

    @classmethod
    def of_invoice(cls, due_date: dt.date | None, as_of: dt.date) -> Bucket:
        """`condition` for an invoice in hand."""
        late = 0 if due_date is None else (as_of - due_date).days
        for bucket in cls:
            if (bucket.first_day is None or bucket.first_day <= late) and (
                bucket.last_day is None or late <= bucket.last_day
            ):
                return bucket
        raise AssertionError(f"the buckets cover every day past due, not {late}")

    @classmethod
    def from_key(cls, key: str) -> Bucket:
        for bucket in cls:
            if bucket.key == key:
                return bucket
        raise ValueError(f"bucket: {key!r} is none of {', '.join(b.key for b in cls)}")


def bucket_sums(as_of: dt.date, amount: str = "owed") -> dict[str, Sum]:
    """One conditional sum per bucket, to annotate a grouped invoice query."""
    return {
        f"bucket_{index}": Sum(
            Case(When(bucket.condition(as_of), then=F(amount)), default=Value(0)),
            output_field=BigIntegerOutput(),
        )
        for index, bucket in enumerate(Bucket)
    }


@dataclass(frozen=True)
class BucketAmount:
    bucket: Bucket
    amount: Decimal


def buckets_from_row(row: Mapping[str, Any], currency: str) -> list[BucketAmount]:
    return [
        BucketAmount(bucket=bucket, amount=money(row[f"bucket_{index}"], currency))
        for index, bucket in enumerate(Bucket)
    ]


def currencies_first(agency: Agency, currencies: set[str]) -> list[str]:
    """The agency's default currency first, then the others alphabetically."""
    return sorted(currencies, key=lambda code: (code != agency.default_currency, code))
