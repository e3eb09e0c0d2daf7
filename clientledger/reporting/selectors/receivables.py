"""Receivables now, per currency: outstanding, overdue, due in the next 30 days (what open
invoices owe, by billing's `overdue_condition`, summed from billing's rollup per due date),
unapplied client credit (the money collected less what it paid on invoices, both from
billing's rollups) and ACH payments still pending (payments' selectors, a partial index).
Three queries whatever the number of invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Case, F, Q, Sum, Value, When

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerDay
from clientledger.payments.selectors import pending_by_currency
from clientledger.reporting.selectors.common import (
    DUE_SOON_DAYS,
    currencies_first,
    money,
    owed_days,
)
from clientledger.reporting.selectors.revenue import COLLECTED_KINDS, collected_sum


@dataclass(frozen=True)
class Receivables:
    currency: str
    outstanding: Decimal
    open_count: int
    overdue: Decimal
    overdue_count: int
    due_soon: Decimal
    unapplied_credit: Decimal
    ach_pending: Decimal

    @classmethod
    def nothing(cls, currency: str) -> Receivables:
        """The figures of a currency nobody owes anything in."""
        zero = money(0, currency)
        return cls(currency, zero, 0, zero, 0, zero, zero, zero)


def _sum_if(condition: Q, amount: str = "owed_minor") -> Sum:
    return Sum(
        Case(When(condition, then=F(amount)), default=Value(0)), output_field=BigIntegerField()
    )


def _unapplied_credit(agency: Agency, paid: Mapping[str, int]) -> dict[str, int]:
    """The clients' unapplied credit per currency: the money collected (payments booked, less
    refunds and reversals that hold theirs: `revenue.collected_sum` of the ledger, from
    billing's sums per day) less what their allocations paid on invoices (`paid`, billing's
    rollup of them). The same as payments' rest after allocations and refunds, summed."""
    collected = (
        LedgerDay.objects.filter(agency=agency, kind__in=COLLECTED_KINDS)
        .values("currency")
        .annotate(collected=collected_sum())
        .values_list("currency", "collected")
    )
    credit = {currency: int(minor) - int(paid.get(currency) or 0) for currency, minor in collected}
    return {currency: minor for currency, minor in credit.items() if minor}


def receivables_now(*, agency: Agency, today: dt.date) -> list[Receivables]:
    """One row per currency with any open invoice, credit or pending payment."""
    soon = Q(due_date__gte=today, due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
    overdue = Q(due_date__lt=today)  # billing's `overdue_condition` on what open invoices owe
    owed = {
        row["currency"]: row
        for row in owed_days(agency=agency, as_of=today, today=today)
        .values("currency")
        .annotate(
            outstanding=Sum("owed_minor"),
            invoices=Sum("open_count"),
            overdue=_sum_if(overdue),
            overdue_invoices=_sum_if(overdue, "open_count"),
            due_soon=_sum_if(soon),
            paid=Sum("paid_minor"),
        )
    }
    rows = {
        currency: row for currency, row in owed.items() if row["outstanding"] or row["invoices"]
    }
    credit = _unapplied_credit(agency, {currency: row["paid"] for currency, row in owed.items()})
    pending = pending_by_currency(agency=agency)
    result = []
    for currency in currencies_first(agency, set(rows) | set(credit) | set(pending)):
        row: Mapping[str, Any] = rows.get(currency, {})
        result.append(
            Receivables(
                currency=currency,
                outstanding=money(row.get("outstanding"), currency),
                open_count=int(row.get("invoices") or 0),
                overdue=money(row.get("overdue"), currency),
                overdue_count=int(row.get("overdue_invoices") or 0),
                due_soon=money(row.get("due_soon"), currency),
                unapplied_credit=money(credit.get(currency), currency),
                ach_pending=money(pending.get(currency), currency),
            )
        )
    return result
