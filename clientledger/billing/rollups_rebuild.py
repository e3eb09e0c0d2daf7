"""The reporting rollups (`LedgerDay`, `OwedDay`; what clients and deals owe: `owed_rebuild`)
rebuilt from the rows: by the data migrations that created them, for the invoices, payments
and ledger entries already there, by the bench after its COPY load, and for one agency when
its time zone changes (the days are the agency's local days).

What an invoice owed is rebuilt from its dated facts: issued (+ total), each allocation and
credit note application as made (- amount; an allocation is also paid; a change of an
allocation since, at its moment), a released application (+ amount), voided (- total); it is
open at the end of a day when it owes something and is not voided. Uncollectible invoices
leave the receivables, as they did before the rollups. Takes the app registry (`apps`) so
the migration runs it on its historical models."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

from django.apps.registry import Apps
from django.db import connection

from clientledger.core import clock
from clientledger.core.bulk import rows_accumulate

CHUNK = 20_000


def rollups_rebuild(apps: Apps, agency_ids: Collection[int] | None = None) -> None:
    """Rebuild the rollups of every agency, or of `agency_ids` only."""

    def rows(app: str, model: str) -> Any:
        manager = apps.get_model(app, model).objects
        return manager.all() if agency_ids is None else manager.filter(agency_id__in=agency_ids)

    zones = _agency_zones(apps, agency_ids)
    _ledger_days(apps, zones, rows)
    _owed_days(apps, zones, rows)


def _agency_zones(apps: Apps, agency_ids: Collection[int] | None = None) -> dict[int, ZoneInfo]:
    agencies = apps.get_model("accounts", "Agency").objects.all()
    if agency_ids is not None:
        agencies = agencies.filter(pk__in=agency_ids)
    return {pk: ZoneInfo(name) for pk, name in agencies.values_list("pk", "timezone")}


def owed_rebuild(apps: Apps) -> None:
    """What each client and deal owes on its open invoices, and the part past due on its
    agency's today, which becomes the agency's `OverdueAsOf` date: per agency, the rows
    zeroed, then one UPDATE ... FROM the open invoices' sums grouped by client (by deal)
    (the migration that added them, the bench's load)."""
    invoices = apps.get_model("billing", "Invoice")._meta.db_table
    owed = "total_minor - amount_paid_minor - amount_credited_minor"
    as_of = apps.get_model("billing", "OverdueAsOf")
    with connection.cursor() as cursor:
        for agency_id, zone in _agency_zones(apps).items():
            today = clock.now().astimezone(zone).date()
            for model, key in (("Client", "client_id"), ("Deal", "deal_id")):
                table = apps.get_model("crm", model)._meta.db_table
                cursor.execute(
                    f"UPDATE {table} SET owed_open_minor = 0, owed_overdue_minor = 0"
                    " WHERE agency_id = %s AND (owed_open_minor <> 0 OR owed_overdue_minor <> 0)",
                    [agency_id],
                )
                cursor.execute(
                    f"UPDATE {table} SET owed_open_minor = m.owed, owed_overdue_minor = m.late"
                    f" FROM (SELECT {key} AS row_id, SUM({owed}) AS owed,"
                    f" SUM(CASE WHEN due_date < %s THEN {owed} ELSE 0 END) AS late"
                    f" FROM {invoices} WHERE agency_id = %s AND status = 'open'"
                    f" AND {key} IS NOT NULL GROUP BY {key}) AS m WHERE {table}.id = m.row_id",
                    [today, agency_id],
                )
            as_of.objects.update_or_create(agency_id=agency_id, defaults={"as_of": today})


def _ledger_days(apps: Apps, zones: dict[int, ZoneInfo], rows: Any) -> None:
    model = apps.get_model("billing", "LedgerDay")
    rows("billing", "LedgerDay").delete()
    sums: dict[tuple[Any, ...], list[int]] = {}
    entries = rows("billing", "LedgerEntry").values_list(
        "agency_id", "currency", "kind", "occurred_at", "amount_minor"
    )
    for agency_id, currency, kind, occurred_at, minor in entries.iterator(chunk_size=CHUNK):
        key = (agency_id, occurred_at.astimezone(zones[agency_id]).date(), currency, kind)
        sums.setdefault(key, [0])[0] += minor
    rows_accumulate(
        model, keys=("agency", "day", "currency", "kind"), amounts=("amount_minor",), rows=sums
    )


def _owed_days(apps: Apps, zones: dict[int, ZoneInfo], rows: Any) -> None:
    model = apps.get_model("billing", "OwedDay")
    rows("billing", "OwedDay").delete()
    invoices: dict[int, tuple[int, str, dt.date]] = {}  # id: agency, currency, due date
    voided: dict[int, dt.datetime] = {}
    # Each invoice's moves: when, what it owes more, what payments paid on it more.
    moves: dict[int, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
    issued: Any = (
        rows("billing", "Invoice")
        .exclude(status__in=["draft", "uncollectible"])
        .filter(issued_at__isnull=False)
        .values_list(
            "pk", "agency_id", "currency", "due_date", "total_minor", "issued_at", "voided_at"
        )
    )
    for pk, agency_id, currency, due, total, issued_at, voided_at in issued.iterator(
        chunk_size=CHUNK
    ):
        invoices[pk] = (agency_id, currency, due)
        moves[pk].append((issued_at, total, 0))
        if voided_at is not None:
            voided[pk] = voided_at
            moves[pk].append((voided_at, -total, 0))
    allocations = rows("payments", "Allocation").values_list(
        "invoice_id", "amount_minor", "created_at"
    )
    for invoice_id, minor, created_at in allocations.iterator(chunk_size=CHUNK):
        if invoice_id in invoices:
            moves[invoice_id].append((created_at, -minor, minor))
    # An allocation stands at its amount now: each later change is undone at the moment the
    # allocation was made, and made at its own moment.
    try:
        changes = rows("payments", "AllocationChange").values_list(
            "invoice_id", "amount_minor", "allocated_at", "created_at"
        )
    except LookupError:
        changes = None  # the migration that made the rollups ran before changes were kept
    for invoice_id, minor, allocated_at, created_at in (
        changes.iterator(chunk_size=CHUNK) if changes is not None else ()
    ):
        if invoice_id in invoices:
            moves[invoice_id].append((allocated_at, minor, -minor))
            moves[invoice_id].append((created_at, -minor, minor))
    applications = rows("billing", "CreditApplication").values_list(
        "invoice_id", "amount_minor", "created_at", "released_at"
    )
    for invoice_id, minor, created_at, released_at in applications.iterator(chunk_size=CHUNK):
        if invoice_id in invoices:
            moves[invoice_id].append((created_at, -minor, 0))
            if released_at is not None:
                moves[invoice_id].append((released_at, minor, 0))
    sums: dict[tuple[Any, ...], list[int]] = {}
    for invoice_id, invoice_moves in moves.items():
        _invoice_days(invoices[invoice_id], voided.get(invoice_id), invoice_moves, zones, sums)
    rows_accumulate(
        model,
        keys=("agency", "day", "currency", "due_date"),
        amounts=("owed_minor", "open_count", "paid_minor"),
        rows=sums,
    )


def _invoice_days(
    invoice: tuple[int, str, dt.date],
    voided_at: dt.datetime | None,
    moves: list[tuple[dt.datetime, int, int]],
    zones: dict[int, ZoneInfo],
    sums: dict[tuple[Any, ...], list[int]],
) -> None:
    """Add one invoice's moves to their days. It is open at the end of a day when it owes
    something and was not voided by then (paid exactly when it owes nothing, reopened by a
    refund taking money back), so each day's change of its open count follows from the
    balances at the days' ends, whatever the order of the moves within a day."""
    agency_id, currency, due = invoice
    zone = zones[agency_id]
    void_day = None if voided_at is None else voided_at.astimezone(zone).date()
    balance = 0
    was_open = False
    by_day: dict[dt.date, list[int]] = {}
    for at, owed, paid in moves:
        day = at.astimezone(zone).date()
        row = by_day.setdefault(day, [0, 0])
        row[0] += owed
        row[1] += paid
    for day in sorted(by_day):
        owed, paid = by_day[day]
        balance += owed
        is_open = balance > 0 and (void_day is None or day < void_day)
        row = sums.setdefault((agency_id, day, currency, due), [0, 0, 0])
        row[0] += owed
        row[1] += is_open - was_open
        row[2] += paid
        was_open = is_open
