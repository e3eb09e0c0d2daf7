"""The client ledger: every financial event appends an entry and moves the cached balance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerEntry
from clientledger.core.money import MAX_BALANCE_MINOR, format_money, from_minor
from clientledger.crm.models import Client


def ledger_append(
    *,
    client: Client,
    kind: str,
    document: models.Model,
    document_reference: str,
    amount_minor: int,
    currency: str,
    occurred_at: dt.datetime,
) -> LedgerEntry:
    """Append one entry and move the client's cached balance in the caller's transaction;
    refuse (ValidationError) an entry that would take the balance past MAX_BALANCE_MINOR."""
    if currency != client.currency:
        raise ValueError(
            f"currency: the ledger of {client} is in {client.currency}, not {currency}"
        )
    # Without a savepoint: inside the caller's transaction a failure rolls it all back
    # anyway, and two fewer round trips matter on the hot path of every payment.
    with transaction.atomic(savepoint=False):
        # The bound is checked by the update itself, so concurrent entries cannot pass it.
        moved = Client.objects.filter(
            pk=client.pk,
            balance_minor__gte=-MAX_BALANCE_MINOR - amount_minor,
            balance_minor__lte=MAX_BALANCE_MINOR - amount_minor,
        ).update(balance_minor=F("balance_minor") + amount_minor)
        if moved:
            return LedgerEntry.objects.create(
                agency_id=client.agency_id,
                client=client,
                kind=kind,
                document_type=document._meta.label_lower,
                document_id=document.pk,
                document_reference=document_reference,
                amount_minor=amount_minor,
                currency=currency,
                occurred_at=occurred_at,
            )
    # Refused after the block: nothing was written, and the caller's transaction stays usable.
    bound = format_money(from_minor(MAX_BALANCE_MINOR, currency), currency)
    raise ValidationError(
        f"This would take the balance of {client.name} past {bound}, "
        "the most a client's balance can hold either way."
    )


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
