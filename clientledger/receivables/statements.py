"""A client's statement of account, read from the client ledger (reads only).

Every financial event of a client is a ledger entry (invoices issued and voided, payments,
credit notes, refunds), so the statement is the ledger between two dates: the balance
before, each entry with the running balance, the balance after. What is open (invoices with
a balance due) comes with its age and the client's link to pay it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Sum

from clientledger.accounts.models import Agency
from clientledger.billing.documents.data import display_date, stored_file_exists
from clientledger.billing.documents.render import render_typst_pdf
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntry
from clientledger.billing.portal_tokens import document_portal_url, with_live_portal_nonce
from clientledger.core.money import format_money, from_minor
from clientledger.crm.models import Client

DEFAULT_PERIOD_DAYS = 90

# (label, first day overdue, last day overdue): "current" is not yet due.
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("Current", -100_000, 0),
    ("1 to 30 days", 1, 30),
    ("31 to 60 days", 31, 60),
    ("61 to 90 days", 61, 90),
    ("Over 90 days", 91, None),
)


@dataclass(frozen=True)
class StatementLine:
    occurred_on: dt.date
    kind: str
    description: str
    reference: str
    amount_minor: int
    balance_minor: int


@dataclass(frozen=True)
class OpenInvoice:
    invoice: Invoice
    balance_minor: int
    days_overdue: int
    portal_url: str | None


@dataclass(frozen=True)
class AgingBucket:
    label: str
    amount_minor: int
    count: int


@dataclass(frozen=True)
class Statement:
    agency: Agency
    client: Client
    currency: str
    start: dt.date
    end: dt.date
    opening_minor: int
    lines: list[StatementLine]
    closing_minor: int
    open_invoices: list[OpenInvoice]
    aging: list[AgingBucket]

    @property
    def open_total_minor(self) -> int:
        return sum(item.balance_minor for item in self.open_invoices)


def _day_start(day: dt.date, tz_name: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(tz_name))


def statement_period(
    today: dt.date, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The period asked for, or the last 90 days up to today."""
    end = end or today
    return start or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1), end


def client_statement(
    *, agency: Agency, client: Client, start: dt.date, end: dt.date, today: dt.date
) -> Statement:
    """The client's statement for the agency's days `start` to `end` (inclusive), with what
    is open as of `today`. The closing balance is the ledger's sum up to the end of `end`."""
    ledger = LedgerEntry.objects.filter(agency=agency, client=client, currency=client.currency)
    since, until = (
        _day_start(start, agency.timezone),
        _day_start(end + dt.timedelta(days=1), agency.timezone),
    )
    opening = (
        ledger.filter(occurred_at__lt=since).aggregate(total=Sum("amount_minor"))["total"] or 0
    )
    balance = opening
    lines = []
    zone = ZoneInfo(agency.timezone)
    for entry in ledger.filter(occurred_at__gte=since, occurred_at__lt=until).order_by(
        "occurred_at", "id"
    ):
        balance += entry.amount_minor
        lines.append(
            StatementLine(
                occurred_on=entry.occurred_at.astimezone(zone).date(),
                kind=entry.kind,
                description=entry.get_kind_display(),
                reference=entry.document_reference,
                amount_minor=entry.amount_minor,
                balance_minor=balance,
            )
        )
    open_invoices = _statement_open_invoices(agency=agency, client=client, today=today)
    return Statement(
        agency=agency,
        client=client,
        currency=client.currency,
        start=start,
        end=end,
        opening_minor=opening,
        lines=lines,
        closing_minor=balance,
        open_invoices=open_invoices,
        aging=statement_aging(open_invoices),
    )


def _statement_open_invoices(
    *, agency: Agency, client: Client, today: dt.date
) -> list[OpenInvoice]:
    """The client's invoices with a balance due, soonest due first, with their age on `today`."""
    invoices = (
        Invoice.objects.filter(agency=agency, client=client, status=InvoiceStatus.OPEN)
        .filter(total_minor__gt=F("amount_paid_minor") + F("amount_credited_minor"))
        .select_related("agency", "client")
        .order_by("due_date", "id")
    )
    invoices = with_live_portal_nonce(invoices)
    return [
        OpenInvoice(
            invoice=invoice,
            balance_minor=invoice.balance_due_minor,
            days_overdue=(today - invoice.due_date).days if invoice.due_date else 0,
            portal_url=document_portal_url(invoice),
        )
        for invoice in invoices
    ]


def statement_aging(open_invoices: list[OpenInvoice]) -> list[AgingBucket]:
    """What is open, by how long it has been overdue."""
    buckets = []
    for label, first, last in AGING_BUCKETS:
        inside = [
            item
            for item in open_invoices
            if item.days_overdue >= first and (last is None or item.days_overdue <= last)
        ]
        buckets.append(AgingBucket(label, sum(i.balance_minor for i in inside), len(inside)))
    return buckets


def statement_print_data(statement: Statement) -> dict[str, Any]:
    """What the statement's PDF prints, money formatted (the typst template reads it as data)."""

    def money(minor: int) -> str:
        return format_money(from_minor(minor, statement.currency), statement.currency)

    agency = statement.agency
    client = statement.client
    logo = agency.logo
    return {
        "seller": {
            "name": agency.name,
            "address_lines": [line for line in agency.legal_address.splitlines() if line.strip()],
            "brand_color": agency.brand_color,
            "logo_path": logo.path if logo and stored_file_exists(logo) else None,
        },
        "buyer": {"name": client.name, "email": client.billing_email},
        "period": f"{display_date(statement.start)} to {display_date(statement.end)}",
        "opening": money(statement.opening_minor),
        "closing": money(statement.closing_minor),
        "lines": [
            {
                "date": display_date(line.occurred_on),
                "description": line.description,
                "reference": line.reference,
                "amount": money(line.amount_minor),
                "balance": money(line.balance_minor),
            }
            for line in statement.lines
        ],
        "open": [
            {
                "number": item.invoice.number,
                "due": display_date(item.invoice.due_date),
                "days_overdue": str(max(0, item.days_overdue)),
                "balance": money(item.balance_minor),
            }
            for item in statement.open_invoices
        ],
        "open_total": money(statement.open_total_minor),
        "aging": [{"label": b.label, "amount": money(b.amount_minor)} for b in statement.aging],
        "payment_instructions": agency.payment_instructions,
        "footer": agency.document_footer,
    }


_TEMPLATE = (Path(__file__).parent / "documents" / "statement.typ").read_bytes()


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF, rendered by billing's typst renderer."""
    return render_typst_pdf(_TEMPLATE, statement_print_data(statement))


def statement_filename(statement: Statement) -> str:
    return f"statement-{statement.client.pk}-{statement.end:%Y-%m-%d}.pdf"
