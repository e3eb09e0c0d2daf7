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
kind, so the lock costs little concurrency.

What each client and deal still owes (`owed_open_minor`, and `owed_overdue_minor` as of its
agency's `OverdueAsOf` date) moves with the same balance moves, under the same lock, by one
UPDATE of the clients and one of the deals per call. The rows a mover updates are its
invoices' client (locked before: the payment, credit and refund paths lock the client first,
issuing and voiding move its ledger balance first) and deal (locked only by crm's edits and
re-pricing, which never then wait for this lock). `overdue_advance` moves the date when the
agency's day turns: it locks its rows before this lock, and under it takes any it still
needs without waiting (NOWAIT: it fails and is retried rather than wait for a row whose
holder may be waiting for the lock)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.db import OperationalError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Model, QuerySet, Sum

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerDay, OverdueAsOf, OwedDay
from clientledger.billing.rollups_rebuild import rollups_rebuild
from clientledger.billing.selectors.common import balance_minor
from clientledger.core import clock
from clientledger.core.bulk import BATCH_SIZE, rows_accumulate
from clientledger.core.cursors import statement_cursor, statement_database
from clientledger.crm.models import Client, Deal


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
    if statement_database().vendor == "postgresql" and len(agency_ids) == 1:
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
    """Add the moves of invoices' balances to their days (one statement) and to what their
    clients and deals owe (one statement each, none for deals when no invoice has one)."""
    zones = agency_timezones([move.invoice for move in moves])
    sums: dict[tuple[int, dt.date, str, dt.date], list[int]] = {}
    # What each client and deal owes more, by (row id, agency, due date).
    clients: dict[tuple[int, int, dt.date], int] = {}
    deals: dict[tuple[int, int, dt.date], int] = {}
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
        for owed, row_id in ((clients, invoice.client_id), (deals, invoice.deal_id)):
            if row_id is not None:
                owed_key = (row_id, invoice.agency_id, invoice.due_date)
                owed[owed_key] = owed.get(owed_key, 0) + move.owed_minor
    # The rollup lock, taken by the upsert, also guards the owed columns moved after it.
    rollups_accumulate(
        OwedDay,
        keys=("agency", "day", "currency", "due_date"),
        amounts=("owed_minor", "open_count", "paid_minor"),
        sums=sums,
    )
    _owed_rows_move(Client, clients)
    _owed_rows_move(Deal, deals)


def _owed_rows_move(model: type[Model], owed: dict[tuple[int, int, dt.date], int]) -> None:
    """Add to the clients' or deals' owed columns, each row (by id) what its invoices of each
    due date owe more, to the overdue one as well when due before the agency's `OverdueAsOf`
    date (read in the statement, under the rollup lock): one UPDATE per batch."""
    moved = sorted((key, minor) for key, minor in owed.items() if minor)
    database = statement_database()
    with statement_cursor(database) as cursor:
        for start in range(0, len(moved), BATCH_SIZE):
            batch = moved[start : start + BATCH_SIZE]
            params: list[int | str] = []
            for (row_id, agency_id, due), minor in batch:
                params += [row_id, agency_id, due.isoformat(), minor]
            cursor.execute(_owed_rows_statement(model, len(batch), database), params)


@functools.lru_cache(maxsize=32)
def _owed_rows_statement(model: type[Model], rows: int, database: BaseDatabaseWrapper) -> str:
    """`_owed_rows_move`'s UPDATE for `rows` rows, built once: every money write runs one."""
    table = model._meta.db_table
    as_of_table = OverdueAsOf._meta.db_table
    bigint, date = ("CAST(%s AS bigint)", "CAST(%s AS date)")
    if database.vendor != "postgresql":
        bigint = date = "%s"
    values = ", ".join([f"({bigint}, {bigint}, {date}, {bigint})"] * rows)
    return (
        f"UPDATE {table} SET owed_open_minor = {table}.owed_open_minor + m.owed,"
        f" owed_overdue_minor = {table}.owed_overdue_minor + m.overdue"
        " FROM (SELECT v.column1 AS row_id, SUM(v.column4) AS owed,"
        " SUM(CASE WHEN v.column3 < a.as_of THEN v.column4 ELSE 0 END) AS overdue"
        f" FROM (VALUES {values}) AS v LEFT JOIN {as_of_table} AS a"
        " ON a.agency_id = v.column2 GROUP BY v.column1) AS m"
        f" WHERE {table}.id = m.row_id"
    )


def overdue_advance(agency: Agency, today: dt.date) -> bool:
    """Make the agency's clients' and deals' `owed_overdue_minor` those of `today`: add what
    the open invoices that came due since the stored date owe (subtract, when `today` is
    before it: the agency moved west), all of them when there is no date yet; one UPDATE
    of the clients and one of the deals. Returns False, having changed nothing, when a row it
    needs is locked by a transaction that may wait for the rollup lock (try again later)."""
    stored = OverdueAsOf.objects.filter(agency=agency).values_list("as_of", flat=True)
    before = stored.first()
    if before == today:
        return True
    try:
        with transaction.atomic():
            # The rows first, waiting for them, as every other writer does.
            _owed_rows_lock(_came_due(agency, before, today), nowait=False)
            rollups_lock([agency.pk])
            before = stored.first()
            if before == today:
                return True
            came_due = _came_due(agency, before, today)
            # Under the lock no balance move of the agency commits: the invoices are those
            # of the update below. A row that came in since is taken without waiting.
            _owed_rows_lock(came_due, nowait=True)
            sign = -1 if before is not None and today < before else 1
            for model, key in ((Client, "client"), (Deal, "deal")):
                _overdue_rows_add(model, key, came_due, sign)
            OverdueAsOf.objects.update_or_create(agency=agency, defaults={"as_of": today})
    except OperationalError as error:
        # PostgreSQL's lock_not_available, what NOWAIT raises; anything else is a failure.
        if getattr(error.__cause__, "sqlstate", None) != "55P03":
            raise
        return False
    return True


def _came_due(agency: Agency, before: dt.date | None, today: dt.date) -> QuerySet[Invoice]:
    """The open invoices past due on one of the dates and not on the other (every one past
    due on `today` when there is no date before)."""
    invoices = Invoice.objects.filter(agency=agency, status=InvoiceStatus.OPEN)
    if before is None:
        return invoices.filter(due_date__lt=today)
    return invoices.filter(due_date__gte=min(before, today), due_date__lt=max(before, today))


def _owed_rows_lock(invoices: QuerySet[Invoice], *, nowait: bool) -> None:
    for model, key in ((Client, "client"), (Deal, "deal")):
        rows = model.objects.filter(pk__in=invoices.values(key)).order_by("pk")
        list(rows.select_for_update(nowait=nowait).values_list("pk", flat=True))


def _overdue_rows_add(model: type[Model], key: str, invoices: QuerySet[Invoice], sign: int) -> None:
    """Add what `invoices` owe (times `sign`) to their clients' or deals' overdue column, in
    one UPDATE ... FROM their sums grouped by the row."""
    table = model._meta.db_table
    sums = (
        invoices.filter(**{f"{key}__isnull": False})
        .values(row_id=F(key))
        .annotate(owed=Sum(balance_minor()) * sign)
        .values_list("row_id", "owed")
        .order_by()
    )
    select, params = sums.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET owed_overdue_minor = {table}.owed_overdue_minor + m.owed"
            f" FROM ({select}) AS m WHERE {table}.id = m.row_id",
            params,
        )


def overdue_days_turn(*, as_of: dt.datetime) -> dict[str, int]:
    """The sweep: each agency whose day turned since its stored date has its overdue amounts
    advanced (a missed day too: the invoices that came due since are added at once)."""
    stored = dict(OverdueAsOf.objects.values_list("agency_id", "as_of"))
    outcome = {"advanced": 0, "busy": 0}
    for agency in Agency.objects.only("pk", "timezone").iterator(chunk_size=500):
        today = clock.agency_today(agency, as_of=as_of)
        if stored.get(agency.pk) == today:
            continue
        outcome["advanced" if overdue_advance(agency, today) else "busy"] += 1
    return {name: count for name, count in outcome.items() if count}


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


def agency_rollups_rebuild(*, agency: Agency) -> None:
    """Rebuild the agency's rollups from its rows, its time zone having changed: a day is its
    local date of each moment, so the moments near midnight move to another day."""
    rollups_lock([agency.pk])
    rollups_rebuild(django_apps, agency_ids=[agency.pk])
