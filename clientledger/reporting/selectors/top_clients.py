"""The clients who owe the most today in one currency, by outstanding and by overdue (open
invoices; overdue by billing's `overdue_condition`). One query per ranking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BigIntegerField, Case, F, Sum, Value, When

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.reporting.selectors.common import money, open_balance

TOP_CLIENTS = 5


@dataclass(frozen=True)
class ClientOwing:
    client_id: int
    client_name: str
    currency: str
    outstanding: Decimal
    overdue: Decimal


def top_clients(
    *, agency: Agency, today: dt.date, currency: str, by: str, limit: int = TOP_CLIENTS
) -> list[ClientOwing]:
    """The `limit` clients owing the most in `currency`, `by` "outstanding" or "overdue"."""
    if by not in ("outstanding", "overdue"):
        raise ValueError(f"by: {by!r} is neither outstanding nor overdue")
    rows = (
        Invoice.objects.filter(agency=agency, status=InvoiceStatus.OPEN, currency=currency)
        .annotate(owed=open_balance())
        .values("client_id", "client__name")
        .annotate(
            outstanding=Sum("owed"),
            overdue=Sum(
                # billing's `overdue_condition` on open invoices, without naming the status
                # again: the status is the partial index's condition, not one of its columns,
                # and the sum reads the index alone (`invoice_open_owing_idx`).
                Case(When(due_date__lt=today, then=F("owed")), default=Value(0)),
                output_field=BigIntegerField(),
            ),
        )
        .filter(**{f"{by}__gt": 0})
        .order_by(f"-{by}", "client__name", "client_id")[:limit]
    )
    return [
        ClientOwing(
            client_id=row["client_id"],
            client_name=row["client__name"],
            currency=currency,
            outstanding=money(row["outstanding"], currency),
            overdue=money(row["overdue"], currency),
        )
        for row in rows
    ]
