"""The reports as CSV lines (reads only): the aging by client or by invoice as of a date,
a client's receivables ledger, revenue by month and by client, MRR by schedule. Each file
starts with a byte order mark so spreadsheet programs read it as UTF-8; names are made safe
from formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.core.csv_io import spreadsheet_safe
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.reporting.selectors.aging import aging_by_client, aging_invoices
from clientledger.reporting.selectors.common import Bucket
from clientledger.reporting.selectors.ledger import client_ledger
from clientledger.reporting.selectors.mrr import active_schedule_summaries
from clientledger.reporting.selectors.revenue import revenue_by_client, revenue_by_month

BUCKET_HEADER = [bucket.label for bucket in Bucket]


def _lines(rows: Iterable[list[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    first = True
    for row in rows:
        writer.writerow(row)
        line = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        yield ("\ufeff" + line) if first else line
        first = False


def aging_clients_csv(
    *, agency: Agency, as_of: dt.date, today: dt.date, currency: str
) -> Iterator[str]:
    rows: list[list[object]] = [["Client", "Currency", *BUCKET_HEADER, "Total"]]
    for row in aging_by_client(agency=agency, as_of=as_of, today=today, currency=currency):
        rows.append(
            [
                spreadsheet_safe(row.client_name),
                currency,
                *(entry.amount for entry in row.buckets),
                row.total,
            ]
        )
    return _lines(rows)


def aging_invoices_csv(
    *, agency: Agency, as_of: dt.date, today: dt.date, currency: str
) -> Iterator[str]:
    header: list[object] = [
        "Invoice",
        "Client",
        "Issued",
        "Due",
        "Days past due",
        "Bucket",
        "Total",
        "Owed",
        "Currency",
    ]
    invoices = aging_invoices(agency=agency, as_of=as_of, today=today, currency=currency)

    def row(invoice: Invoice) -> list[object]:
        late = (as_of - invoice.due_date).days if invoice.due_date else 0
        return [
            invoice.number,
            spreadsheet_safe(invoice.client.name),
            invoice.issue_date,
            invoice.due_date,
            max(late, 0),
            Bucket.of_invoice(invoice.due_date, as_of).label,
            from_minor(invoice.total_minor, currency),
            from_minor(invoice.owed, currency),  # type: ignore[attr-defined]
            currency,
        ]

    return _lines(
        itertools.chain([header], (row(invoice) for invoice in invoices.iterator(chunk_size=1000)))
    )


def revenue_months_csv(*, agency: Agency, today: dt.date) -> Iterator[str]:
    rows: list[list[object]] = [
        ["Month", "Currency", "Invoiced (net of credit notes)", "Collected"]
    ]
    for revenue in revenue_by_month(agency=agency, today=today):
        rows.extend(
            [f"{month.month:%Y-%m}", revenue.currency, month.invoiced, month.collected]
            for month in revenue.months
        )
    return _lines(rows)


def revenue_clients_csv(
    *, agency: Agency, first: dt.date, last: dt.date, currency: str
) -> Iterator[str]:
    rows: list[list[object]] = [
        ["Client", "Currency", "Invoiced (net of credit notes)", "Collected"]
    ]
    rows.extend(
        [spreadsheet_safe(row.client_name), currency, row.invoiced, row.collected]
        for row in revenue_by_client(agency=agency, first=first, last=last, currency=currency)
    )
    return _lines(rows)


def mrr_schedules_csv(*, agency: Agency) -> Iterator[str]:
    rows: list[list[object]] = [
        ["Schedule", "Client", "Currency", "Frequency", "Net per period", "MRR"]
    ]
    for summary in active_schedule_summaries(agency=agency):
        schedule = summary.schedule
        rows.append(
            [
                spreadsheet_safe(schedule.name),
                spreadsheet_safe(schedule.client.name),
                schedule.currency,
                f"every {schedule.interval_count} {schedule.interval_unit}",
                "" if summary.net_amount is None else summary.net_amount,
                "" if summary.monthly_recurring is None else summary.monthly_recurring,
            ]
        )
    return _lines(rows)


def client_ledger_csv(*, agency: Agency, client: Client, as_of: dt.date) -> Iterator[str]:
    """The client's receivables ledger to `as_of`, with the balance after each entry."""
    currency = client.currency
    header: list[object] = ["Posted", "Entry", "Reference", "Amount", "Balance", "Currency"]
    rows = (
        [
            entry.occurred_at.astimezone(ZoneInfo(agency.timezone)).date(),
            entry.get_kind_display(),
            spreadsheet_safe(entry.document_reference),
            from_minor(entry.amount_minor, currency),
            from_minor(entry.balance_minor_after, currency),  # type: ignore[attr-defined]
            currency,
        ]
        for entry in client_ledger(agency=agency, client=client, as_of=as_of).iterator(
            chunk_size=1000
        )
    )
    return _lines(itertools.chain([header], rows))
