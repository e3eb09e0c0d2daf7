"""Receivables now, per currency: outstanding, overdue, due in the next 30 days (open
invoices, by billing's `overdue_condition`), unapplied client credit and ACH payments still
pending (payments' selectors). Three queries whatever the number of invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus, overdue_condition
from clientledger.payments.selectors import credit_by_currency, pending_by_currency
from clientledger.reporting.selectors.common import (
    DUE_SOON_DAYS,
    currencies_first,
    money,
    open_balance,
)


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


def _sum_if(condition: Q) -> Sum:
    return Sum(
        Case(When(condition, then=F("owed")), default=Value(0)), output_field=BigIntegerField()
    )


def receivables_now(*, agency: Agency, today: dt.date) -> list[Receivables]:
    """One row per currency with any open invoice, credit or pending payment."""
    soon = Q(due_date__gte=today, due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
    rows = {
        row["currency"]: row
        for row in Invoice.objects.filter(agency=agency, status=InvoiceStatus.OPEN)
        .annotate(owed=open_balance())
        .values("currency")
        .annotate(
            outstanding=Sum("owed"),
            open_count=Count("pk"),
            overdue=_sum_if(overdue_condition(today)),
            overdue_count=Count("pk", filter=overdue_condition(today)),
            due_soon=_sum_if(soon),
        )
    }
    credit = credit_by_currency(agency=agency)
    pending = pending_by_currency(agency=agency)
    result = []
    for currency in currencies_first(agency, set(rows) | set(credit) | set(pending)):
        row: Mapping[str, Any] = rows.get(currency, {})
        result.append(
            Receivables(
                currency=currency,
                outstanding=money(row.get("outstanding"), currency),
                open_count=int(row.get("open_count") or 0),
                overdue=money(row.get("overdue"), currency),
                overdue_count=int(row.get("overdue_count") or 0),
                due_soon=money(row.get("due_soon"), currency),
                unapplied_credit=money(credit.get(currency), currency),
                ach_pending=money(pending.get(currency), currency),
            )
        )
    return result
