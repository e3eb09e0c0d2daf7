"""Reads of the client ledger: a client's outstanding balance and the reconcile check.

Entries are appended by `billing.services.ledger.ledger_append`, inside the services' own
transactions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerEntry
from clientledger.core.money import from_minor
from clientledger.crm.models import Client


def client_outstanding_balance(*, agency: Agency, client: Client) -> Decimal:
    """What the client owes, summed from its ledger entries in SQL (exact integers)."""
    total = LedgerEntry.objects.filter(
        agency=agency, client=client, currency=client.currency
    ).aggregate(total=Sum("amount_minor"))["total"]
    return from_minor(total or 0, client.currency)


@dataclass(frozen=True)
class BalanceMismatch:
    client_id: int
    client_name: str
    currency: str
    cached_minor: int
    ledger_minor: int


def ledger_mismatches(*, agency: Agency | None = None) -> list[BalanceMismatch]:
    """Clients whose cached balance differs from their ledger sum (should always be empty)."""
    clients = Client.objects.all() if agency is None else Client.objects.filter(agency=agency)
    ledger_sum = (
        LedgerEntry.objects.filter(client=models.OuterRef("pk"))
        .values("client")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    rows = (
        clients.annotate(ledger_minor=Coalesce(models.Subquery(ledger_sum), 0))
        .exclude(balance_minor=F("ledger_minor"))
        .values_list("pk", "name", "currency", "balance_minor", "ledger_minor")
    )
    return [BalanceMismatch(*row) for row in rows]
