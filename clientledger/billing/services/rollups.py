"""The reporting rollups' one writer: `LedgerDay` (ledger entries summed per day and kind)
and `OwedDay` (what issued invoices owe, moved per day and due date), each added to in the
transaction that appends the entry or moves the invoice's balance, so they always equal a
recomputation from the rows (tests/reporting checks it after random histories).

A day is the agency's date of the moment, as every figure of reporting counts it.

Deadlock-free by construction: every money write of an agency moves the same few rows (the
day's), in whatever order its path meets them (a payment's invoices in the order the user
listed them, its ledger entry before or after). Before its first rollup write a transaction
takes its agencies' rollup lock (a PostgreSQL transaction-level advisory lock, in agency id
order), so one transaction at a time writes an agency's rollup rows and no two wait for each
other's rows in a circle. The writers take their invoice and client row locks before they
move money, hence before this lock: its holder never waits for a row that a waiter for the
lock holds. An agency's money writes already queued on the day's `LedgerDay` row of their
kind, so the lock costs little concurrency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db import connection

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerDay, OwedDay
from clientledger.core.bulk import rows_accumulate


def agency_timezones(scoped: Iterable[object]) -> dict[int, ZoneInfo]:
    """The timezone of each agency of `scoped` rows (anything with an `agency_id`): from the
    agency a model row holds, else one query for the others."""
    zones: dict[int, ZoneInfo] = {}
    agency_ids: set[int] = set()
    for row in scoped:
        agency_ids.add(row.agency_id)  # type: ignore[attr-defined]
        state = getattr(row, "_state", None)
        if state is not None and "agency" in state.fields_cache:
            zones[row.agency_id] = ZoneInfo(row.agency.timezone)  # type: ignore[attr-defined]
    missing = agency_ids - set(zones)
    if missing:  # not even an empty queryset built: every money write passes here
        for agency_id, name in Agency.objects.filter(pk__in=missing).values_list("pk", "timezone"):
            zones[agency_id] = ZoneInfo(name)
    return zones


# The namespace of the rollup locks among PostgreSQL's two-key advisory locks.
ROLLUPS_LOCK_SPACE = 1_301


def rollups_accumulate(
    model: type[LedgerDay | OwedDay],
    *,
    keys: tuple[str, ...],
    amounts: tuple[str, ...],
    sums: Mapping[tuple[Any, ...], Sequence[int]],
) -> None:
    """Add `sums` (keyed by agency id first) to a rollup's rows under the rollup lock of their
    agencies: for one agency on PostgreSQL, taken by the upsert itself (a round trip less on
    every money write)."""
    agency_ids = {agency_id for agency_id, *_ in sums}
    lock = None
    if connection.vendor == "postgresql" and len(agency_ids) == 1:
        lock = (ROLLUPS_LOCK_SPACE, *agency_ids)
    else:
        rollups_lock(agency_ids)
    rows_accumulate(model, keys=keys, amounts=amounts, rows=sums, advisory_lock=lock)


def rollups_lock(agency_ids: Iterable[int]) -> None:
    """Take the rollup lock of each agency until the transaction ends, in id order (taking
    one again is free). SQLite runs one write transaction at a time: nothing to take."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for agency_id in sorted(set(agency_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROLLUPS_LOCK_SPACE, agency_id])


class LedgerAmount(Protocol):
    """What the day sums read of an entry: a saved `LedgerEntry` or a batch's `LedgerRow`."""

    @property
    def agency_id(self) -> int: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def currency(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...


def ledger_days_add(entries: Sequence[LedgerAmount], scoped: Iterable[object] = ()) -> None:
    """Add appended entries to their days' sums (one statement). `scoped`: rows holding the
    entries' agencies (their clients), which spare the query for the agencies' timezones."""
    zones = agency_timezones([*scoped, *entries])
    sums: dict[tuple[int, dt.date, str, str], list[int]] = {}
    for entry in entries:
        day = entry.occurred_at.astimezone(zones[entry.agency_id]).date()
        key = (entry.agency_id, day, entry.currency, entry.kind)
        sums.setdefault(key, [0])[0] += entry.amount_minor
    rollups_accumulate(
        LedgerDay, keys=("agency", "day", "currency", "kind"), amounts=("amount_minor",), sums=sums
    )


@dataclass(frozen=True)
class OwedMove:
    """What an invoice owes moved by `owed_minor` at `at`; `opened` is +1 when it became
    open, -1 when it stopped being open, 0 otherwise; `paid_minor`, what payments' allocations
    paid on it more (less when negative)."""

    invoice: Invoice
    owed_minor: int
    opened: int
    at: dt.datetime
    paid_minor: int = 0


def owed_moves_add(moves: Sequence[OwedMove]) -> None:
    """Add the moves of invoices' balances to their days (one statement)."""
    zones = agency_timezones([move.invoice for move in moves])
    sums: dict[tuple[int, dt.date, str, dt.date], list[int]] = {}
    for move in moves:
        invoice = move.invoice
        if invoice.due_date is None:
            raise ValueError(f"{invoice} has no due date: only issued invoices owe")
        day = move.at.astimezone(zones[invoice.agency_id]).date()
        key = (invoice.agency_id, day, invoice.currency, invoice.due_date)
        row = sums.setdefault(key, [0, 0, 0])
        row[0] += move.owed_minor
        row[1] += move.opened
        row[2] += move.paid_minor
    rollups_accumulate(
        OwedDay,
        keys=("agency", "day", "currency", "due_date"),
        amounts=("owed_minor", "open_count", "paid_minor"),
        sums=sums,
    )


def invoice_balance_moved(
    invoice: Invoice,
    *,
    owed_minor: int,
    status_before: str,
    at: dt.datetime,
    paid_minor: int = 0,
) -> None:
    """A locked invoice, saved, owes `owed_minor` more (less when negative) than before, its
    status having been `status_before`; `paid_minor` of it is money of payments."""
    was_open = status_before == InvoiceStatus.OPEN
    is_open = invoice.status == InvoiceStatus.OPEN
    move = OwedMove(
        invoice=invoice,
        owed_minor=owed_minor,
        opened=is_open - was_open,
        at=at,
        paid_minor=paid_minor,
    )
    owed_moves_add([move])
