"""The clients who owe the most today in one currency, by outstanding and by overdue: what
their open invoices owe, as each client keeps it (billing's `clients_with_amounts_owed`, the
columns the client list sorts by, indexed), so a ranking reads a few index entries however
many invoices are open. Two queries per ranking (whether the overdue amounts are today's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F
from django.db.models.lookups import GreaterThan

from clientledger.accounts.models import Agency
from clientledger.billing.selectors.owing import clients_with_amounts_owed
from clientledger.crm.models import Client
from clientledger.reporting.selectors.common import money

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
    clients = clients_with_amounts_owed(
        Client.objects.filter(agency=agency, currency=currency), agency=agency, today=today
    )
    rows = (
        clients.filter(GreaterThan(F(f"{by}_minor"), 0))
        .order_by(f"-{by}_minor", "name", "id")
        .values("id", "name", outstanding=F("outstanding_minor"), overdue=F("overdue_minor"))[
            :limit
        ]
    )
    return [
        ClientOwing(
            client_id=row["id"],
            client_name=row["name"],
            currency=currency,
            outstanding=money(row["outstanding"], currency),
            overdue=money(row["overdue"], currency),
        )
        for row in rows
    ]
