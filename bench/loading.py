"""A realistic agency at scale, loaded by COPY into PostgreSQL in one transaction, then
VACUUM ANALYZE (the settled state autovacuum reaches; the planner never sees empty tables).

Per invoice, over five years: 2 lines, issued and sent (a ledger entry, two audit events). 1
client per 25 invoices with a billing contact and one won deal; invoices issued in the last
8% of the period, and one in 97 older ones, are still open (most of them overdue), each with a
client link; the others are paid by one payment per 3 invoices of a client (an allocation,
a ledger entry and an audit event each). At 500,000 invoices: 20,000 clients, 1,000,000
lines, about 150,000 payments, 460,000 allocations, 650,000 ledger entries and 1,150,000
audit events, as in issue 14's dataset. Balances, statuses, numbers and the number counters
agree, so every page and service works on the rows as on rows the app wrote."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from clientledger.accounts.models import Agency
from clientledger.accounts.number_formats import format_number
from clientledger.billing.audit_verbs import InvoiceVerb
from clientledger.billing.models import DocumentSeries, Invoice, LedgerEntryKind, PortalLink
from clientledger.billing.portal_tokens import portal_link_token, portal_token_hash
from clientledger.billing.services.numbering import counter_period
from clientledger.billing.services.snapshots import buyer_snapshot_with, seller_snapshot
from clientledger.crm.models import Client, Contact
from clientledger.payments.audit_verbs import PaymentVerb

INVOICES_PER_CLIENT = 25
PERIOD_DAYS = 5 * 365
RECENT_OPEN_SHARE = 0.08
OLD_OPEN_EVERY = 97
PAYMENT_TERMS_DAYS = 30
INVOICES_PER_PAYMENT = 3
HOUR_PRICE_MINOR = 12_000
HOUR_PRICE = "120.00"

# The tables whose rows the load numbers itself, for the rows of others to name them.
NUMBERED_TABLES = ("crm_client", "crm_deal", "billing_invoice", "payments_payment")


@dataclass
class Plan:
    """The rows of the load, before COPY (ids already given to the rows that others name)."""

    agency_id: int
    today: dt.date
    client_ids: list[int]
    deal_ids: list[int]
    invoices: list[tuple[Any, ...]] = field(default_factory=list)
    open_invoices: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    allocations: list[tuple[Any, ...]] = field(default_factory=list)
    balances: dict[int, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    seller_json: str = "{}"
    buyer_json: dict[int, str] = field(default_factory=dict)


# Indexes into an invoice row of `Plan.invoices` (the columns of INVOICE_COLUMNS).
ID = 0
CLIENT = 2
NUMBER = 4
ISSUED_ON = 5
DUE_ON = 6
ISSUED_AT = 7
TOTAL = 8
STATUS = 9

INVOICE_COLUMNS = (
    "id, agency_id, client_id, deal_id, number, issue_date, due_date, issued_at, total_minor,"
    " status, amount_paid_minor, subtotal_minor, sent_at, created_at, updated_at,"
    " seller_snapshot, buyer_snapshot, currency, notes, terms, discount_minor, tax_total_minor,"
    " tax_breakdown, pdf, amount_credited_minor, void_reason"
)
ONE_HOUR = dt.timedelta(hours=1)


def agency_load(connection: Any, agency: Agency, invoices: int) -> dict[str, int]:
    """Load `invoices` invoices and all that goes with them into `agency`; return row counts."""
    started = time.perf_counter()
    raw = connection.connection
    with connection.cursor() as cursor:
        first = {table: _next_id(cursor, table) for table in NUMBERED_TABLES}
    clients = max(1, invoices // INVOICES_PER_CLIENT)
    plan = Plan(
        agency_id=agency.pk,
        today=dt.date.today(),
        client_ids=list(range(first["crm_client"], first["crm_client"] + clients)),
        deal_ids=list(range(first["crm_deal"], first["crm_deal"] + clients)),
    )
    _plan_invoices(plan, agency.invoice_number_format, first["billing_invoice"], invoices)
    _plan_payments(plan, first["payments_payment"])
    with raw.transaction(), raw.cursor() as cursor:
        _copy_clients(cursor, plan, seller_snapshot(agency))
        _copy_invoices(cursor, plan)
        _copy_payments(cursor, plan)
        _copy_history(cursor, plan)
        _copy_links_and_counters(cursor, plan)
        for table in NUMBERED_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM"
                f" {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    counts = {
        "clients": clients,
        "invoices": len(plan.invoices),
        "open invoices": len(plan.open_invoices),
        "payments": len(plan.payments),
        "allocations": len(plan.allocations),
    }
    print(
        f"loaded {', '.join(f'{count:,} {name}' for name, count in counts.items())}"
        f" in {time.perf_counter() - started:.0f} s"
    )
    return counts


def _next_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return int(cursor.fetchone()[0])


def _plan_invoices(plan: Plan, number_format: str, first_id: int, invoices: int) -> None:
    """Invoices in issue order over the period, numbered per year, open or paid."""
    start = plan.today - dt.timedelta(days=PERIOD_DAYS)
    recent = invoices - int(invoices * RECENT_OPEN_SHARE)
    for n in range(invoices):
        issued_on = start + dt.timedelta(days=n * PERIOD_DAYS // invoices)
        issued_at = dt.datetime.combine(issued_on, dt.time(9), dt.UTC) + dt.timedelta(
            seconds=n * 37 % 28_800
        )
        period = counter_period(number_format, issued_on)
        sequence = plan.counters.get(period, 0) + 1
        plan.counters[period] = sequence
        client_index = n % len(plan.client_ids)
        row: tuple[Any, ...] = (
            first_id + n,
            plan.agency_id,
            plan.client_ids[client_index],
            plan.deal_ids[client_index],
            format_number(number_format, on=issued_on, sequence=sequence),
            issued_on,
            issued_on + dt.timedelta(days=PAYMENT_TERMS_DAYS),
            issued_at,
            _retainer_minor(n) + _hours(n) * HOUR_PRICE_MINOR,
            "open" if n >= recent or n % OLD_OPEN_EVERY == 0 else "paid",
        )
        plan.invoices.append(row)
        if row[STATUS] == "open":
            plan.open_invoices.append(row)
            plan.balances[row[CLIENT]] = plan.balances.get(row[CLIENT], 0) + row[TOTAL]


def _retainer_minor(n: int) -> int:
    return 100_000 + (n * 7919) % 4_000 * 100


def _hours(n: int) -> int:
    return 1 + n % 12


def _plan_payments(plan: Plan, first_id: int) -> None:
    """One payment per group of paid invoices of a client, received 20 days after the last."""
    paid: dict[int, list[tuple[Any, ...]]] = {}
    for row in plan.invoices:
        if row[STATUS] == "paid":
            paid.setdefault(row[CLIENT], []).append(row)
    payment_id = first_id
    for client_id, rows in paid.items():
        for start in range(0, len(rows), INVOICES_PER_PAYMENT):
            group = rows[start : start + INVOICES_PER_PAYMENT]
            received_on = min(plan.today, group[-1][ISSUED_ON] + dt.timedelta(days=20))
            at = dt.datetime.combine(received_on, dt.time(15), dt.UTC)
            amount = sum(row[TOTAL] for row in group)
            plan.payments.append((payment_id, client_id, amount, received_on, at, group))
            plan.allocations.extend((payment_id, row[ID], row[TOTAL], at) for row in group)
            payment_id += 1


def _client_name(index: int) -> str:
    return f"Client {index:06d} Ltd"


# The columns every loaded row of a table has alike, after the ones that vary.
CLIENT_ALIKE = ("", "Springfield", "12345", "", "US", "USD", "", False, "")
CONTACT_ALIKE = ("", "Accounts payable", True)
DEAL_LINE_ALIKE = (1, "Monthly retainer", 1, "month", 1500, "", 0, "monthly")
# The deal's stored value: its one line priced (1 x 1,500.00 a month, untaxed) in cents.
DEAL_VALUE_ALIKE = (150_000, 150_000, 150_000, "")
INVOICE_ALIKE = ("USD", "", "", 0, 0, "[]", "", 0, "")
LINE_ALIKE = ("", 0, 0, "[]")
PAYMENT_ALIKE = ("bank_transfer", "succeeded", "USD", "", "")


def _copy_clients(cursor: Any, plan: Plan, seller: dict[str, Any]) -> None:
    """Clients with their balance, billing contact, won deal and its retainer line."""
    created = dt.datetime.combine(plan.today - dt.timedelta(days=PERIOD_DAYS + 30), dt.time(9))
    created = created.replace(tzinfo=dt.UTC)
    with cursor.copy(
        "COPY crm_client (id, agency_id, name, billing_email, address_line1, balance_minor,"
        " created_at, updated_at, address_line2, city, postal_code, region, country, currency,"
        " tax_id, tax_exempt, notes) FROM STDIN"
    ) as copy:
        for index, client_id in enumerate(plan.client_ids):
            varying = (client_id, plan.agency_id, _client_name(index), _email(index))
            owed = plan.balances.get(client_id, 0)
            copy.write_row((*varying, _street(index), owed, created, created, *CLIENT_ALIKE))
    with cursor.copy(
        "COPY crm_contact (agency_id, client_id, name, email, created_at, phone, job_title,"
        " is_billing_contact) FROM STDIN"
    ) as copy:
        for index, client_id in enumerate(plan.client_ids):
            contact = (plan.agency_id, client_id, f"Accounts {index}", _email(index), created)
            copy.write_row((*contact, *CONTACT_ALIKE))
    with cursor.copy(
        "COPY crm_deal (id, agency_id, client_id, title, stage, notes, created_at, updated_at,"
        " subtotal_minor, total_minor, monthly_recurring_minor, pricing_problem) FROM STDIN"
    ) as copy:
        for index, client_id in enumerate(plan.client_ids):
            title = f"{_client_name(index)} retainer"
            deal = (plan.deal_ids[index], plan.agency_id, client_id, title, "won", "")
            copy.write_row((*deal, created, created, *DEAL_VALUE_ALIKE))
    with cursor.copy(
        "COPY crm_dealline (agency_id, deal_id, position, description, quantity, unit,"
        " unit_price, discount_kind, discount_value, recurrence) FROM STDIN"
    ) as copy:
        for deal_id in plan.deal_ids:
            copy.write_row((plan.agency_id, deal_id, *DEAL_LINE_ALIKE))
    plan.seller_json = json.dumps(seller)
    plan.buyer_json = {
        client_id: json.dumps(buyer_snapshot_with(_client(index), _contact(index)))
        for index, client_id in enumerate(plan.client_ids)
    }


def _email(index: int) -> str:
    return f"ap{index}@client.example"


def _street(index: int) -> str:
    return f"{index % 900 + 1} High Street"


def _client(index: int) -> Client:
    """The client as loaded (unsaved), for its buyer snapshot."""
    return Client(
        name=_client_name(index),
        billing_email=_email(index),
        address_line1=_street(index),
        city=CLIENT_ALIKE[1],
        postal_code=CLIENT_ALIKE[2],
        country=CLIENT_ALIKE[4],
    )


def _contact(index: int) -> Contact:
    return Contact(name=f"Accounts {index}")


def _copy_invoices(cursor: Any, plan: Plan) -> None:
    """Invoices, issued and sent, with their frozen snapshots and two lines each."""
    with cursor.copy(f"COPY billing_invoice ({INVOICE_COLUMNS}) FROM STDIN") as copy:
        for row in plan.invoices:
            issued_at, total = row[ISSUED_AT], row[TOTAL]
            paid = total if row[STATUS] == "paid" else 0
            sent_at, created_at = issued_at + dt.timedelta(minutes=1), issued_at - ONE_HOUR
            snapshots = (plan.seller_json, plan.buyer_json[row[CLIENT]])
            copy.write_row(
                (*row, paid, total, sent_at, created_at, issued_at, *snapshots, *INVOICE_ALIKE)
            )
    with cursor.copy(
        "COPY billing_invoiceline (agency_id, invoice_id, position, description, quantity,"
        " unit, unit_price, recurrence, net_minor, total_minor, discount_kind, discount_value,"
        " tax_minor, tax_snapshot) FROM STDIN"
    ) as copy:
        for n, row in enumerate(plan.invoices):
            retainer, hours = _retainer_minor(n), _hours(n)
            worked = hours * HOUR_PRICE_MINOR
            first = (1, "Monthly retainer", 1, "month", f"{retainer / 100:.2f}", "monthly")
            second = (2, "Additional hours", hours, "hour", HOUR_PRICE, "one_off")
            copy.write_row((plan.agency_id, row[ID], *first, retainer, retainer, *LINE_ALIKE))
            copy.write_row((plan.agency_id, row[ID], *second, worked, worked, *LINE_ALIKE))


def _copy_payments(cursor: Any, plan: Plan) -> None:
    with cursor.copy(
        "COPY payments_payment (id, agency_id, client_id, amount_minor, received_on, created_at,"
        " reference, method, status, currency, notes, failure_message) FROM STDIN"
    ) as copy:
        for payment_id, client_id, amount, received_on, at, _group in plan.payments:
            varying = (payment_id, plan.agency_id, client_id, amount, received_on, at)
            copy.write_row((*varying, f"TRF-{payment_id}", *PAYMENT_ALIKE))
    with cursor.copy(
        "COPY payments_allocation (agency_id, payment_id, invoice_id, amount_minor, created_at)"
        " FROM STDIN"
    ) as copy:
        for allocation in plan.allocations:
            copy.write_row((plan.agency_id, *allocation))


def _ledger_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    issued = LedgerEntryKind.INVOICE_ISSUED.value
    for row in plan.invoices:
        yield (
            row[CLIENT],
            issued,
            "billing.invoice",
            row[ID],
            row[NUMBER],
            row[TOTAL],
            row[ISSUED_AT],
        )
    received = LedgerEntryKind.PAYMENT_SUCCEEDED.value
    for payment_id, client_id, amount, _on, at, _group in plan.payments:
        reference = f"Payment #{payment_id}"
        yield (client_id, received, "payments.payment", payment_id, reference, -amount, at)


def _audit_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    for row in plan.invoices:
        issued = {"number": row[NUMBER], "total_minor": row[TOTAL], "due_date": str(row[DUE_ON])}
        subject = ("billing.invoice", row[ID], row[NUMBER], row[CLIENT])
        yield (InvoiceVerb.ISSUED.value, *subject, json.dumps(issued), row[ISSUED_AT])
        sent = {"recipients": [json.loads(plan.buyer_json[row[CLIENT]])["email"]]}
        at = row[ISSUED_AT] + dt.timedelta(minutes=1)
        yield (InvoiceVerb.SENT.value, *subject, json.dumps(sent), at)
    for payment_id, client_id, amount, _on, at, group in plan.payments:
        recorded = {
            "amount": f"{amount / 100:.2f}",
            "currency": "USD",
            "method": "bank_transfer",
            "allocations": {row[NUMBER]: f"{row[TOTAL] / 100:.2f}" for row in group},
        }
        subject = ("payments.payment", payment_id, f"Payment #{payment_id}", client_id)
        yield (PaymentVerb.RECORDED.value, *subject, json.dumps(recorded), at)


def _copy_history(cursor: Any, plan: Plan) -> None:
    """The ledger entries and audit events the services would have written."""
    with cursor.copy(
        "COPY billing_ledgerentry (agency_id, client_id, kind, document_type, document_id,"
        " document_reference, amount_minor, occurred_at, created_at, currency) FROM STDIN"
    ) as copy:
        for entry in _ledger_rows(plan):
            copy.write_row((plan.agency_id, *entry, entry[-1], "USD"))
    with cursor.copy(
        "COPY core_auditevent (agency_id, verb, subject_type, subject_id, subject_repr,"
        " client_id, data, at) FROM STDIN"
    ) as copy:
        for event in _audit_rows(plan):
            copy.write_row((plan.agency_id, *event))


def _copy_links_and_counters(cursor: Any, plan: Plan) -> None:
    """The client link each sending made, and the number counters where numbering goes on."""
    with cursor.copy(
        "COPY billing_portallink (agency_id, invoice_id, nonce, token_hash, created_at) FROM STDIN"
    ) as copy:
        for row in plan.invoices:
            nonce = _link_nonce(plan.agency_id, row[ID])
            token_hash = portal_token_hash(portal_link_token(PortalLink(nonce=nonce)))
            copy.write_row(
                (
                    plan.agency_id,
                    row[ID],
                    nonce,
                    token_hash,
                    row[ISSUED_AT] + dt.timedelta(minutes=1),
                )
            )
    with cursor.copy(
        "COPY billing_documentcounter (agency_id, series, period, last_value) FROM STDIN"
    ) as copy:
        for period, last_value in plan.counters.items():
            copy.write_row((plan.agency_id, DocumentSeries.INVOICE.value, period, last_value))


def invoice_portal_token(invoice_id: int, agency_id: int) -> str:
    """The token of the client link the load made for an invoice (under this SECRET_KEY)."""
    return portal_link_token(PortalLink(nonce=_link_nonce(agency_id, invoice_id)))


def _link_nonce(agency_id: int, invoice_id: int) -> str:
    # 64 hex digits like the service's secrets.token_hex(32), unique per invoice.
    return f"{agency_id:016x}{invoice_id:048x}"


def loaded_open_invoices(agency: Agency) -> QuerySet[Invoice]:
    """The agency's open invoices that came with the load, sent with a client link (the
    benches issue more, neither sent nor linked)."""
    return Invoice.objects.filter(agency=agency, status="open", sent_at__isnull=False)
