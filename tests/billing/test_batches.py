"""The batch writer of invoices: numbers taken in blocks, invoices created, issued and sent in
bulk exactly as the one-by-one services leave them, in a number of queries that does not grow
with the number of invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    DocumentSeries,
    Invoice,
    LedgerDay,
    LedgerEntry,
    OwedDay,
    PortalLink,
)
from clientledger.billing.services.batches import (
    BuiltInvoice,
    InvoiceOrder,
    invoice_build,
    invoices_send_many,
    invoices_write,
)
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.numbering import number_take, numbers_take
from clientledger.billing.services.sending import invoice_send
from clientledger.billing.services.snapshots import billing_contacts
from clientledger.catalog.models import TaxRate
from clientledger.core.models import AuditEvent
from clientledger.core.money import MAX_BALANCE_MINOR
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.billing.conftest import NOW, RECIPIENTS, TODAY, line
from tests.factories import ClientFactory, ContactFactory, DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def write(
    agency: Agency, orders: list[InvoiceOrder], *, send: bool = False, sending: bool = False
) -> list[BuiltInvoice]:
    contacts = billing_contacts(order.client.pk for order in orders)
    built = [
        invoice_build(
            agency=agency,
            actor=None,
            order=order,
            billing_contact=contacts.get(order.client.pk),
        )
        for order in orders
    ]
    with transaction.atomic():
        written = invoices_write(agency=agency, actor=None, built=built, sending=sending)
        if send:
            invoices_send_many(actor=None, written=written)
    return written


def row(instance: models.Model, *ignored: str) -> dict[str, Any]:
    """A row's stored values, without its keys and the fields named in `ignored`."""
    instance.refresh_from_db()
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in {"id", *ignored}
    }


def test_a_block_of_numbers_follows_the_last_number_without_gaps(agency: Agency) -> None:
    with transaction.atomic():
        first = number_take(agency=agency, series=DocumentSeries.INVOICE, on=TODAY)
        block = numbers_take(agency=agency, series=DocumentSeries.INVOICE, on=TODAY, count=3)
        after = number_take(agency=agency, series=DocumentSeries.INVOICE, on=TODAY)
    assert [first, *block, after] == [f"INV-2026-0000{n}" for n in range(1, 6)]


@pytest.mark.django_db(transaction=True)
def test_a_block_of_numbers_is_taken_only_inside_the_issuing_transaction(agency: Agency) -> None:
    with pytest.raises(RuntimeError, match="inside the issuing transaction"):
        numbers_take(agency=agency, series=DocumentSeries.INVOICE, on=TODAY, count=2)


def test_a_batch_issued_and_sent_invoice_equals_one_issued_and_sent_alone(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    ContactFactory.create(client=buyer, name="Ada Payable", is_billing_contact=True)
    vat = TaxRate.objects.get(pk=vat.pk)  # as stored: the percent with its four places
    deal = DealFactory.create(client=buyer, agency=agency)
    lines = [
        line(taxes=[vat]),
        line("Hosting", "1", "49.99", recurrence="monthly", taxes=[vat]),
        line("Discounted", "3", "20", discount_kind="percent", discount_value=Decimal("10")),
    ]
    alone = invoice_create(
        agency=agency, actor=None, client=buyer, deal=deal, lines=lines, notes="Thanks"
    )
    alone = invoice_issue(invoice=alone, actor=None, issue_date=TODAY)
    alone = invoice_send(invoice=alone, actor=None, recipients=RECIPIENTS)

    order = InvoiceOrder(
        client=buyer,
        deal=deal,
        lines=lines,
        notes="Thanks",
        issue=True,
        issue_date=TODAY,
        send_to=RECIPIENTS,
    )
    [batch] = write(agency, [order], send=True)
    in_bulk = batch.invoice

    assert row(in_bulk, "number", "created_at") == row(alone, "number", "created_at")
    assert in_bulk.number == "INV-2026-00002"
    assert [row(x, "invoice_id") for x in in_bulk.lines.order_by("position")] == [
        row(x, "invoice_id") for x in alone.lines.order_by("position")
    ]
    ledger = "document_id", "document_reference", "created_at"
    [alone_entry] = LedgerEntry.objects.filter(document_id=alone.pk)
    [bulk_entry] = LedgerEntry.objects.filter(document_id=in_bulk.pk)
    assert row(bulk_entry, *ledger) == row(alone_entry, *ledger)
    assert bulk_entry.document_reference == in_bulk.number

    def trail(invoice: Invoice) -> list[tuple[str, dict[str, Any]]]:
        events = AuditEvent.objects.filter(subject_id=invoice.pk, subject_type="billing.invoice")
        return [
            (event.verb, {**event.data, "number": None} if "number" in event.data else event.data)
            for event in events.order_by("id")
        ]

    assert trail(in_bulk) == trail(alone)

    def email(invoice: Invoice) -> tuple[str, str, tuple[int, dt.datetime | None]]:
        message = EmailMessage.objects.get(attach_document_id=invoice.pk)
        link = PortalLink.objects.get(invoice=invoice)
        body = email_render(message).text.replace(invoice.number, "NUMBER")
        subject = message.subject.replace(invoice.number, "NUMBER")
        return subject, body[: body.index("http")], (link.agency_id, link.revoked_at)

    assert email(in_bulk) == email(alone)


def test_a_batch_draft_equals_a_draft_created_alone(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    alone = invoice_create(agency=agency, actor=None, client=buyer, lines=[line(taxes=[vat])])
    [batch] = write(agency, [InvoiceOrder(client=buyer, lines=[line(taxes=[vat])])])
    assert row(batch.invoice, "created_at", "updated_at") == row(alone, "created_at", "updated_at")
    assert batch.invoice.number == ""
    assert not LedgerEntry.objects.filter(document_id=batch.invoice.pk).exists()


def test_batch_numbers_follow_issue_dates_with_one_counter_per_month(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    agency.invoice_number_format = "INV-{YYYY}{MM}-{SEQ:03}"
    agency.save()
    dates = [dt.date(2026, 10, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 15)]
    orders = [
        InvoiceOrder(client=buyer, lines=[line(taxes=[vat])], issue=True, issue_date=on)
        for on in dates
    ]
    numbers = [item.invoice.number for item in write(agency, orders)]
    assert numbers == ["INV-202610-001", "INV-202609-001", "INV-202610-002"]


def test_the_queries_of_a_batch_do_not_grow_with_its_invoices(agency: Agency, vat: TaxRate) -> None:
    def orders(count: int) -> list[InvoiceOrder]:
        clients = [ClientFactory.create(agency=agency, currency="USD") for _ in range(count)]
        return [
            InvoiceOrder(
                client=Client.objects.select_related("agency").get(pk=client.pk),
                lines=[line(taxes=[vat]), line("Hosting", "1", "50")],
                issue=True,
                send_to=RECIPIENTS,
            )
            for client in clients
        ]

    small, large = orders(3), orders(40)
    write(agency, orders(1), send=True)  # the year's counter row exists from now on
    with CaptureQueriesContext(connection) as few:
        write(agency, small, send=True)
    with CaptureQueriesContext(connection) as many:
        write(agency, large, send=True)
    # Only SQLite's 999 parameters a statement split the inserts of the larger batch more.
    assert len(many) - len(few) < (len(large) - len(small)) / 10
    assert Invoice.objects.filter(sent_at__isnull=False).count() == 44


def test_a_batch_written_for_sending_inserts_its_sent_invoices_sent_with_no_update_after(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    def order(send_to: list[str]) -> InvoiceOrder:
        return InvoiceOrder(client=buyer, lines=[line(taxes=[vat])], issue=True, send_to=send_to)

    [updated] = write(agency, [order(RECIPIENTS)], send=True)
    with CaptureQueriesContext(connection) as queries:
        inserted, unsent = write(agency, [order(RECIPIENTS), order([])], send=True, sending=True)

    assert not [
        q for q in queries.captured_queries if q["sql"].startswith('UPDATE "billing_invoice"')
    ]
    assert row(inserted.invoice, "number", "created_at") == row(
        updated.invoice, "number", "created_at"
    )
    assert row(unsent.invoice)["sent_at"] is None


def test_a_batch_that_would_pass_a_balance_bound_writes_nothing(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    Client.objects.filter(pk=buyer.pk).update(balance_minor=MAX_BALANCE_MINOR - 100)
    LedgerEntry.objects.create(
        agency=agency,
        client=buyer,
        kind="adjustment",
        document_type="crm.client",
        document_id=buyer.pk,
        document_reference="opening",
        amount_minor=MAX_BALANCE_MINOR - 100,
        currency="USD",
        occurred_at=NOW,
    )
    order = InvoiceOrder(client=buyer, lines=[line(taxes=[vat])], issue=True)
    with pytest.raises(ValidationError, match="past"):
        write(agency, [order])
    assert not Invoice.objects.exists()
    buyer.refresh_from_db()
    assert buyer.balance_minor == MAX_BALANCE_MINOR - 100


def test_an_order_that_cannot_be_issued_is_refused_before_anything_is_written(
    agency: Agency, buyer: Client
) -> None:
    with pytest.raises(ValidationError, match="at least one line"):
        write(agency, [InvoiceOrder(client=buyer, lines=[], issue=True)])
    with pytest.raises(ValidationError, match="issue it first"):
        write(agency, [InvoiceOrder(client=buyer, lines=[line()], send_to=RECIPIENTS)])
    assert not Invoice.objects.exists()


def test_batch_issued_invoices_move_the_reporting_rollups_as_invoices_issued_alone(
    agency: Agency, buyer: Client
) -> None:
    alone = invoice_create(agency=agency, actor=None, client=buyer, lines=[line()])
    alone = invoice_issue(invoice=alone, actor=None, issue_date=TODAY)
    order = InvoiceOrder(client=buyer, lines=[line()], issue=True, issue_date=TODAY)
    write(agency, [order, order])

    (owed,) = OwedDay.objects.filter(agency=agency)
    assert (owed.due_date, owed.owed_minor, owed.open_count) == (
        alone.due_date,
        3 * alone.total_minor,
        3,
    )
    (issued,) = LedgerDay.objects.filter(agency=agency)
    assert (issued.kind, issued.amount_minor) == ("invoice_issued", 3 * alone.total_minor)
