"""The client ledger's one writer: every financial event appends an entry and moves the
client's cached balance and its day's sum (`rollups.ledger_days_add`), in the transaction of
the service that records the event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple, TypedDict

from django.core.exceptions import ValidationError
from django.db import models, transaction

from clientledger.billing.models import LedgerEntry
from clientledger.billing.services.rollups import ledger_days_add
from clientledger.core.bulk import rows_add, rows_write
from clientledger.core.money import MAX_BALANCE_MINOR, format_money, from_minor
from clientledger.core.rows import row_write_where_added
from clientledger.crm.models import Client


class LedgerFields(TypedDict):
    """What one entry records (the arguments of `ledger_append` and `ledger_row`)."""

    client: Client
    kind: str
    document: models.Model
    document_reference: str
    amount_minor: int
    currency: str
    occurred_at: dt.datetime


def ledger_append(
    *,
    client: Client,
    kind: str,
    document: models.Model,
    document_reference: str,
    amount_minor: int,
    currency: str,
    occurred_at: dt.datetime,
) -> None:
    """Append one entry and move the client's cached balance in the caller's transaction;
    refuse (ValidationError) an entry that would take the balance past MAX_BALANCE_MINOR.

    The entry is written from its values: nothing reads it back in the transaction that
    appends it, and every money write appends one."""
    # Built (its currency checked) before the block: a refusal leaves the caller's
    # transaction usable.
    row = ledger_row(
        client=client,
        kind=kind,
        document=document,
        document_reference=document_reference,
        amount_minor=amount_minor,
        currency=currency,
        occurred_at=occurred_at,
    )
    # Without a savepoint: inside the caller's transaction a failure rolls it all back
    # anyway, and two fewer round trips matter on the hot path of every payment.
    with transaction.atomic(savepoint=False):
        # The bound is checked by the update itself, so concurrent entries cannot pass it.
        if row_write_where_added(
            LedgerEntry,
            LedgerRow._fields,
            row,
            row=client,
            field="balance_minor",
            amount=amount_minor,
            bound=MAX_BALANCE_MINOR,
        ):
            ledger_days_add([row], scoped=[client])
            return
    # Refused after the block: nothing was written, and the caller's transaction stays usable.
    raise _bound_refusal(client)


class LedgerRow(NamedTuple):
    """One entry's values, written without a model instance (`ledger_append`, and batch
    writers appending tens of thousands with `ledger_append_many`)."""

    agency_id: int
    client_id: int
    kind: str
    document_type: str
    document_id: int
    document_reference: str
    amount_minor: int
    currency: str
    occurred_at: dt.datetime


def ledger_row(
    *,
    client: Client,
    kind: str,
    document: models.Model,
    document_reference: str,
    amount_minor: int,
    currency: str,
    occurred_at: dt.datetime,
) -> LedgerRow:
    _currency_check(client, currency)
    return LedgerRow(
        agency_id=client.agency_id,
        client_id=client.pk,
        kind=kind,
        document_type=document._meta.label_lower,
        document_id=document.pk,
        document_reference=document_reference,
        amount_minor=amount_minor,
        currency=currency,
        occurred_at=occurred_at,
    )


def ledger_append_many(rows: Sequence[LedgerRow], *, batch_size: int = 500) -> None:
    """Append many entries (built by `ledger_row`) and move each client's cached balance by
    their sum: one conditional UPDATE and the inserts per batch, whatever the number of
    entries. A client that would pass MAX_BALANCE_MINOR refuses the whole call
    (ValidationError); the caller's transaction must then roll back, as the other clients'
    balances have moved."""
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        moves: dict[int, int] = {}
        for row in batch:
            moves[row.client_id] = moves.get(row.client_id, 0) + row.amount_minor
        # In id order: two batch writers sharing clients wait for each other, never deadlock.
        locked = Client.objects.select_for_update().filter(pk__in=moves).order_by("pk")
        list(locked.values_list("pk", flat=True))
        moved = rows_add(Client, "balance_minor", moves, bound=MAX_BALANCE_MINOR)
        if len(moved) != len(moves):
            past = next(client_id for client_id in moves if client_id not in moved)
            raise _bound_refusal(Client.objects.get(pk=past))
        rows_write(LedgerEntry, LedgerRow._fields, batch)
    # After every batch's client locks: the rollup lock comes after a writer's row locks.
    ledger_days_add(rows)


def _currency_check(client: Client, currency: str) -> None:
    if currency != client.currency:
        raise ValueError(
            f"currency: the ledger of {client} is in {client.currency}, not {currency}"
        )


def _bound_refusal(client: Client) -> ValidationError:
    bound = format_money(from_minor(MAX_BALANCE_MINOR, client.currency), client.currency)
    return ValidationError(
        f"This would take the balance of {client.name} past {bound}, "
        "the most a client's balance can hold either way."
    )
