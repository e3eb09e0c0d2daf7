"""Creating, issuing and sending many invoices at database speed (the recurring billing run).

Each invoice ends up exactly as `drafts.invoice_create`, then `invoices.invoice_issue` and
`sending.invoice_send`, would leave it (the same fields, lines, snapshots, ledger entry, audit
events, client link and email), through the same helpers; only the round trips differ: every
row kind is written with multi-row inserts, numbers are taken in blocks, and the queries of a
batch do not grow with its number of invoices. PDFs are left to the rendering sweep.

A batch is built first (`invoice_build`, no query: each order is checked and priced alone, so
a caller can set one bad order aside and keep the others), then written in one go
(`invoices_write`, inside the caller's transaction), then sent (`invoices_send_many`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from clientledger.accounts.models import Agency, User
from clientledger.billing.audit_verbs import InvoiceVerb
from clientledger.billing.models import (
    DocumentSeries,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from clientledger.billing.portal_tokens import portal_url
from clientledger.billing.services.common import (
    PricedAmounts,
    PriceMemo,
    amounts_price,
    amounts_set,
)
from clientledger.billing.services.invoices import (
    invoice_issued,
    issue_dates,
    issued_audit_data,
    issued_ledger_fields,
    total_check,
)
from clientledger.billing.services.ledger import ledger_append_many, ledger_row
from clientledger.billing.services.numbering import counter_period, numbers_take, series_format
from clientledger.billing.services.portal_links import (
    PortalLinkRow,
    portal_link_row,
    portal_links_write,
)
from clientledger.billing.services.rollups import OwedMove, owed_moves_add
from clientledger.billing.services.sending import (
    INVOICE_SENDABLE,
    recipients_clean,
    sent_email,
)
from clientledger.billing.services.snapshots import (
    buyer_snapshot_with,
    lines_require,
    seller_snapshot,
)
from clientledger.billing.states import invoice_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_row, audit_rows_write
from clientledger.core.bulk import rows_insert, rows_write
from clientledger.core.dates import dates_check
from clientledger.core.rows import row_new
from clientledger.crm.models import Client, Contact, Deal
from clientledger.lines.choices import RECURRENCE_PERIODS
from clientledger.lines.data import LineData
from clientledger.lines.pricing import recurring_amounts
from clientledger.lines.validation import lines_validate
from clientledger.notifications.services import EmailRow, email_row, emails_write

BATCH_SIZE = 500


@dataclass(frozen=True)
class InvoiceOrder:
    """One invoice to create: a draft, or issued on `issue_date` (the agency's today by
    default), and then sent to `send_to` when that is given."""

    client: Client
    lines: list[LineData]
    deal: Deal | None = None
    notes: str = ""
    terms: str = ""
    issue: bool = False
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    send_to: list[str] = field(default_factory=list)
    message: str = ""
    # The lines are stored ones (a schedule's), unchanged, which passed `lines_validate`
    # when they were saved: only pricing runs again (it refuses lines a tax change made
    # unpriceable, and totals past the posting bound).
    lines_checked: bool = False
    # An invoice built from the same lines (the same list) of the same agency, for a client
    # billed in the same currency with the same tax exemption (a schedule's catch-up
    # periods, retainers billing the same lines): everything pricing reads is the same, so
    # its amounts and line rows are copied, not priced again.
    priced_like: BuiltInvoice | None = None


class LineRow(NamedTuple):
    """An invoice line's stored values but its invoice's id (`LINE_COLUMNS`, in order): a
    batch writes tens of thousands of lines, cheaper as tuples than as model instances."""

    agency_id: int
    position: int
    service_id: int | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    tax_1_id: int | None
    tax_2_id: int | None
    recurrence: str
    net_minor: int
    tax_minor: int
    total_minor: int
    tax_snapshot: list[dict[str, Any]]

    @property
    def period(self) -> str:
        """As `PricedLine.period`: what the email's recurring amounts count."""
        return RECURRENCE_PERIODS.get(self.recurrence, "")


LINE_COLUMNS = (*LineRow._fields, "invoice_id")


@dataclass
class BuiltInvoice:
    """An order checked and priced in memory, written by `invoices_write` (which gives the
    invoice its id and, when issued, its number)."""

    order: InvoiceOrder
    invoice: Invoice
    lines: list[LineRow]
    priced: PricedAmounts
    recipients: list[str]


def invoice_build(
    *,
    agency: Agency,
    actor: User | None,
    order: InvoiceOrder,
    billing_contact: Contact | None,
    prices: PriceMemo | None = None,
    at: dt.datetime | None = None,
    seller: dict[str, Any] | None = None,
) -> BuiltInvoice:
    """Check and price one order without a query (its client's agency, the lines' services
    and taxes are in hand; `billing_contact` from `snapshots.billing_contacts`); refuse
    (ValidationError) what `invoice_create`, `invoice_issue` or `invoice_send` would refuse.
    `prices`: the batch's amounts priced so far, shared by orders with the same lines. `at`:
    when it is created (and issued), now by default; a batch written in one transaction
    stamps its invoices with one moment. `seller`: the agency's `seller_snapshot`, built once
    for a batch (all its invoices freeze the same one; nothing changes it before they are
    written)."""
    client, deal = order.client, order.deal
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "Choose a client of your agency."})
    if deal is not None and (deal.agency_id != agency.pk or deal.client_id != client.pk):
        raise ValidationError({"deal": "Choose a deal of this client."})
    dates_check(issue_date=order.issue_date, due_date=order.due_date)
    if not order.lines_checked:
        lines_validate(agency=agency, client=client, lines=order.lines, existing=())
    at = at or clock.now()
    invoice = row_new(
        Invoice,
        agency=agency,
        client=client,
        deal=deal,
        created_by=actor,
        currency=client.currency,
        notes=order.notes,
        terms=order.terms,
        created_at=at,
        updated_at=at,
    )
    lines, priced = _lines_priced(invoice, order, prices)
    recipients = recipients_clean(order.send_to) if order.send_to else []
    if order.issue:
        invoice_transition_check(invoice.status, InvoiceStatus.OPEN)
        issued_on, due_on = issue_dates(
            invoice, issue_date=order.issue_date, due_date=order.due_date
        )
        invoice.seller_snapshot = seller if seller is not None else seller_snapshot(agency)
        invoice.buyer_snapshot = buyer_snapshot_with(client, billing_contact)
        lines_require(invoice, lines)
        total_check(invoice)
        invoice_issued(invoice, number="", issued_on=issued_on, due_on=due_on, at=at)
    elif recipients:
        raise ValidationError(f"A {invoice.status} invoice cannot be sent; issue it first.")
    return BuiltInvoice(
        order=order, invoice=invoice, lines=lines, priced=priced, recipients=recipients
    )


def _lines_priced(
    invoice: Invoice, order: InvoiceOrder, prices: PriceMemo | None
) -> tuple[list[LineRow], PricedAmounts]:
    """The order's lines as rows, priced, with the invoice's totals set; copied from
    `priced_like`, priced alike, rather than priced again."""
    like = order.priced_like
    if like is not None:
        if not _priced_alike(like, invoice, order):
            raise ValueError(f"{invoice} does not have the lines of {like.invoice} to copy")
        amounts_set(invoice, like.priced)
        return like.lines, like.priced
    priced = amounts_price(invoice, order.lines, memo=prices)
    amounts_set(invoice, priced)
    agency_id = invoice.agency_id
    rows = []
    for position, (data, amounts) in enumerate(zip(order.lines, priced.lines, strict=True)):
        stored = data.fields()
        rows.append(
            LineRow(
                agency_id,
                position,
                _pk(stored["service"]),
                stored["description"],
                stored["quantity"],
                stored["unit"],
                stored["unit_price"],
                stored["discount_kind"],
                stored["discount_value"],
                _pk(stored["tax_1"]),
                _pk(stored["tax_2"]),
                stored["recurrence"],
                *amounts,
            )
        )
    return rows, priced


def _priced_alike(like: BuiltInvoice, invoice: Invoice, order: InvoiceOrder) -> bool:
    """Whether `like` has the lines and amounts `invoice` would get: what `amounts_price`
    reads besides the lines is the agency's rounding, the currency and the tax exemption."""
    return (
        like.order.lines is order.lines
        and like.invoice.agency_id == invoice.agency_id
        and like.invoice.currency == invoice.currency
        and like.invoice.client.tax_exempt == invoice.client.tax_exempt
    )


def _pk(row: Model | None) -> int | None:
    return row.pk if row is not None else None


def invoices_write(
    *, agency: Agency, actor: User | None, built: Sequence[BuiltInvoice], sending: bool = False
) -> list[BuiltInvoice]:
    """Write built invoices in the caller's transaction: numbers taken in one block per
    counter period, then invoices, lines, ledger entries and audit events in multi-row
    inserts. A refusal (a balance past the bound) leaves the caller's transaction to roll
    back. `sending`: the caller sends them (`invoices_send_many`) in the same transaction,
    so those with recipients are inserted with their `sent_at`, not updated after."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoices_write() must run inside the caller's transaction")
    _numbers_give(agency, [item.invoice for item in built if item.invoice.issued_at])
    if sending:
        at = clock.now()
        for item in built:
            if item.recipients:
                item.invoice.sent_at = at
    rows_insert([item.invoice for item in built])
    rows_write(
        InvoiceLine,
        LINE_COLUMNS,
        [
            (*line, invoice_id)
            for item in built
            for invoice_id in (item.invoice.pk,)  # read once per invoice, not per line
            for line in item.lines
        ],
    )
    issued = [item.invoice for item in built if item.invoice.issued_at]
    ledger_append_many([ledger_row(**issued_ledger_fields(invoice)) for invoice in issued])
    owed_moves_add(
        [
            OwedMove(
                invoice=invoice, owed_minor=invoice.total_minor, opened=1, at=invoice.updated_at
            )
            for invoice in issued
        ]
    )
    events = [_created_event(actor, item) for item in built]
    events += [
        audit_row(
            agency_id=agency.pk,
            actor=actor,
            verb=InvoiceVerb.ISSUED,
            subject=invoice,
            client_id=invoice.client_id,
            data=issued_audit_data(invoice),
            at=invoice.updated_at,
        )
        for invoice in issued
    ]
    audit_rows_write(events)
    return list(built)


def invoices_send_many(*, actor: User | None, written: Iterable[BuiltInvoice]) -> int:
    """Send each written invoice that has recipients, as `invoice_send` does: a client link,
    the branded email (rendered and the PDF attached on delivery) and the audit event, all
    in multi-row writes, in the caller's transaction. Returns how many were sent."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoices_send_many() must run inside the caller's transaction")
    now = clock.now()
    links: list[PortalLinkRow] = []
    emails: list[EmailRow] = []
    events: list[tuple[Any, ...]] = []
    unstamped_ids: list[int] = []
    # Invoices priced alike share their lines' rows (`InvoiceOrder.priced_like`): what the
    # email says they bill every period is added up once per list of rows and currency.
    recurring: dict[tuple[int, str], list[str]] = {}
    for item in written:
        if not item.recipients:
            continue
        invoice = item.invoice
        if invoice.status not in INVOICE_SENDABLE:
            raise ValidationError(f"A {invoice.status} invoice cannot be sent; issue it first.")
        at = invoice.sent_at
        if at is None:  # not inserted sent (`invoices_write(sending=True)`)
            at = invoice.sent_at = now
            unstamped_ids.append(invoice.pk)
        link, token = portal_link_row(invoice)
        links.append(link)
        alike = (id(item.lines), invoice.currency)
        if alike not in recurring:
            recurring[alike] = recurring_amounts(item.lines, invoice.currency)
        email = sent_email(
            invoice,
            lines=item.lines,
            link=portal_url(token),
            message=item.order.message,
            recurring=recurring[alike],
        )
        emails.append(
            email_row(agency_id=invoice.agency_id, to=item.recipients, attach=invoice, **email)
        )
        events.append(
            audit_row(
                agency_id=invoice.agency_id,
                actor=actor,
                verb=InvoiceVerb.SENT,
                subject=invoice,
                client_id=invoice.client_id,
                data={"to": item.recipients},
                at=at,
            )
        )
    if not links:
        return 0
    portal_links_write(links)
    emails_write(emails)
    audit_rows_write(events)
    for start in range(0, len(unstamped_ids), BATCH_SIZE):
        batch = unstamped_ids[start : start + BATCH_SIZE]
        Invoice.objects.filter(pk__in=batch).update(sent_at=now)
    return len(links)


def _numbers_give(agency: Agency, issued: list[Invoice]) -> None:
    """Number issued invoices in issue-date order, one block per counter period (the dates
    of one period print alike in a number: a format shows at most the year and month)."""
    fmt = series_format(agency, DocumentSeries.INVOICE)
    by_period: dict[str, list[Invoice]] = {}
    for invoice in sorted(issued, key=_issue_date):
        by_period.setdefault(counter_period(fmt, _issue_date(invoice)), []).append(invoice)
    for invoices in by_period.values():
        numbers = numbers_take(
            agency=agency,
            series=DocumentSeries.INVOICE,
            on=_issue_date(invoices[0]),
            count=len(invoices),
        )
        for invoice, number in zip(invoices, numbers, strict=True):
            invoice.number = number


def _issue_date(invoice: Invoice) -> dt.date:
    if invoice.issue_date is None:
        raise ValueError(f"invoice of {invoice.client}: an issued invoice has an issue date")
    return invoice.issue_date


def _created_event(actor: User | None, item: BuiltInvoice) -> tuple[Any, ...]:
    invoice = item.invoice
    return audit_row(
        agency_id=invoice.agency_id,
        actor=actor,
        verb=InvoiceVerb.CREATED,
        subject=invoice,
        client_id=invoice.client_id,
        data={"deal": invoice.deal_id, "lines": len(item.lines)},
        at=invoice.created_at,
    )
