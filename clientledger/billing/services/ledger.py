"""The client ledger's one writer: every financial event appends an entry and moves the
client's cached balance, in the transaction of the service that records the event."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F

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
