"""The reporting rollups (`LedgerDay`, `OwedDay`; what clients and deals owe: `owed_rebuild`)
rebuilt from the rows: by the data migrations that created them, for the invoices, payments
and ledger entries already there, and by the bench after its COPY load.

What an invoice owed is rebuilt from its dated facts: issued (+ total), each allocation and
credit note application as made (- amount; an allocation is also paid), a released
application (+ amount), voided (- total); it stopped being open when voided, or when paid, at
its last allocation or application. Uncollectible invoices leave the receivables, as they did
before the rollups. Takes the app registry (`apps`) so the migration runs it on its historical
models."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.apps.registry import Apps
from django.db import connection

from clientledger.core import clock
from clientledger.core.bulk import rows_accumulate

CHUNK = 20_000


def rollups_rebuild(apps: Apps) -> None:
    zones = _agency_zones(apps)
    _ledger_days(apps, zones)
    _owed_days(apps, zones)


def _agency_zones(apps: Apps) -> dict[int, ZoneInfo]:
    agencies = apps.get_model("accounts", "Agency").objects.values_list("pk", "timezone")
    return {pk: ZoneInfo(name) for pk, name in agencies}


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


def _ledger_days(apps: Apps, zones: dict[int, ZoneInfo]) -> None:
    model = apps.get_model("billing", "LedgerDay")
    model.objects.all().delete()
    sums: dict[tuple[Any, ...], list[int]] = {}
    entries = apps.get_model("billing", "LedgerEntry").objects.values_list(
        "agency_id", "currency", "kind", "occurred_at", "amount_minor"
    )
    for agency_id, currency, kind, occurred_at, minor in entries.iterator(chunk_size=CHUNK):
        key = (agency_id, occurred_at.astimezone(zones[agency_id]).date(), currency, kind)
        sums.setdefault(key, [0])[0] += minor
    rows_accumulate(
        model, keys=("agency", "day", "currency", "kind"), amounts=("amount_minor",), rows=sums
    )


def _owed_days(apps: Apps, zones: dict[int, ZoneInfo]) -> None:
    model = apps.get_model("billing", "OwedDay")
    model.objects.all().delete()
    invoices: dict[int, tuple[int, str, dt.date]] = {}  # id: agency, currency, due date
    sums: dict[tuple[Any, ...], list[int]] = {}

    def add(invoice_id: int, at: dt.datetime, owed: int, opened: int, paid: int = 0) -> None:
        agency_id, currency, due = invoices[invoice_id]
        key = (agency_id, at.astimezone(zones[agency_id]).date(), currency, due)
        row = sums.setdefault(key, [0, 0, 0])
        row[0] += owed
        row[1] += opened
        row[2] += paid

    paid: dict[int, dt.datetime] = {}  # paid invoices: the moment they were last settled
    rows: Any = (
        apps.get_model("billing", "Invoice")
        .objects.exclude(status__in=["draft", "uncollectible"])
        .filter(issued_at__isnull=False)
        .values_list(
            "pk",
            "agency_id",
            "currency",
            "due_date",
            "status",
            "total_minor",
            "issued_at",
            "voided_at",
        )
    )
    for pk, agency_id, currency, due, status, total, issued_at, voided_at in rows.iterator(
        chunk_size=CHUNK
    ):
        invoices[pk] = (agency_id, currency, due)
        add(pk, issued_at, total, 1)
        if voided_at is not None:
            add(pk, voided_at, -total, -1)
        if status == "paid":
            paid[pk] = issued_at
    allocations = apps.get_model("payments", "Allocation").objects.values_list(
        "invoice_id", "amount_minor", "created_at"
    )
    applications = apps.get_model("billing", "CreditApplication").objects.values_list(
        "invoice_id", "amount_minor", "created_at", "released_at"
    )
    settled: list[tuple[int, int, dt.datetime, int]] = []  # invoice, amount, when, paid
    for invoice_id, minor, created_at in allocations.iterator(chunk_size=CHUNK):
        settled.append((invoice_id, minor, created_at, minor))
    for invoice_id, minor, created_at, released_at in applications.iterator(chunk_size=CHUNK):
        settled.append((invoice_id, minor, created_at, 0))
        if released_at is not None and invoice_id in invoices:
            add(invoice_id, released_at, minor, 0)
    for invoice_id, minor, created_at, paid_minor in settled:
        if invoice_id in invoices:
            add(invoice_id, created_at, -minor, 0, paid_minor)
            if invoice_id in paid:
                paid[invoice_id] = max(paid[invoice_id], created_at)
    for invoice_id, settled_at in paid.items():
        add(invoice_id, settled_at, 0, -1)
    rows_accumulate(
        model,
        keys=("agency", "day", "currency", "due_date"),
        amounts=("owed_minor", "open_count", "paid_minor"),
        rows=sums,
    )
