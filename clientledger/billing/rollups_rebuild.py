"""The reporting rollups (`LedgerDay`, `OwedDay`) rebuilt from the rows: by the data
migration that created them, for the invoices, payments and ledger entries already there,
by the bench after its COPY load, and for one agency when its time zone changes (the days are
the agency's local days).

What an invoice owed is rebuilt from its dated facts: issued (+ total), each allocation and
credit note application as made (- amount; an allocation is also paid), a released
application (+ amount), voided (- total); it stopped being open when voided, or when paid, at
its last allocation or application. Uncollectible invoices leave the receivables, as they did
before the rollups. Takes the app registry (`apps`) so the migration runs it on its historical
models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

from django.apps.registry import Apps

from clientledger.core.bulk import rows_accumulate

CHUNK = 20_000


def rollups_rebuild(apps: Apps, agency_ids: Collection[int] | None = None) -> None:
    """Rebuild the rollups of every agency, or of `agency_ids` only."""

    def rows(app: str, model: str) -> Any:
        manager = apps.get_model(app, model).objects
        return manager.all() if agency_ids is None else manager.filter(agency_id__in=agency_ids)

    zones = {
        pk: ZoneInfo(name)
        for pk, name in (
            apps.get_model("accounts", "Agency").objects.all()
            if agency_ids is None
            else apps.get_model("accounts", "Agency").objects.filter(pk__in=agency_ids)
        ).values_list("pk", "timezone")
    }
    _ledger_days(apps, zones, rows)
    _owed_days(apps, zones, rows)


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
    sums: dict[tuple[Any, ...], list[int]] = {}

    def add(invoice_id: int, at: dt.datetime, owed: int, opened: int, paid: int = 0) -> None:
        agency_id, currency, due = invoices[invoice_id]
        key = (agency_id, at.astimezone(zones[agency_id]).date(), currency, due)
        row = sums.setdefault(key, [0, 0, 0])
        row[0] += owed
        row[1] += opened
        row[2] += paid

    paid: dict[int, dt.datetime] = {}  # paid invoices: the moment they were last settled
    issued: Any = (
        rows("billing", "Invoice")
        .exclude(status__in=["draft", "uncollectible"])
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
    for pk, agency_id, currency, due, status, total, issued_at, voided_at in issued.iterator(
        chunk_size=CHUNK
    ):
        invoices[pk] = (agency_id, currency, due)
        add(pk, issued_at, total, 1)
        if voided_at is not None:
            add(pk, voided_at, -total, -1)
        if status == "paid":
            paid[pk] = issued_at
    allocations = rows("payments", "Allocation").values_list(
        "invoice_id", "amount_minor", "created_at"
    )
    applications = rows("billing", "CreditApplication").values_list(
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
