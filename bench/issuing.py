"""Issuing one invoice of a client through the service, against a raw-SQL transaction doing
the same reads and writes (the draft locked with its agency and client, the billing contact
and lines read, the lines' frozen amounts, the number counter, the invoice, the ledger entry,
the client balance, the audit event). DESIGN.md section 9 budgets the payment at 2x of such
a floor; issuing, the other write of every invoice, is held to the same budget."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.timing import median_ms

if TYPE_CHECKING:
    from clientledger.crm.models import Client

ISSUING_BUDGET_RATIO = 2.0
REPEAT = 60


def _drafts(client: Client, count: int) -> Iterator[Any]:
    """`count` two-line drafts of the client, handed out one at a time."""
    from clientledger.billing.models import Invoice, InvoiceLine

    drafts = Invoice.objects.bulk_create(
        Invoice(agency=client.agency, client=client, currency=client.currency) for _ in range(count)
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            agency=client.agency,
            invoice=draft,
            position=position,
            description=description,
            quantity=Decimal(quantity),
            unit=unit,
            unit_price=Decimal(price),
        )
        for draft in drafts
        for position, description, quantity, unit, price in (
            (1, "Monthly retainer", "1", "month", "1500.00"),
            (2, "Additional hours", "3", "hour", "120.00"),
        )
    )
    return iter(drafts)


def invoice_issuing(connection: Any, client: Client) -> tuple[float, float]:
    """The service's and the floor's medians (ms) for issuing one draft of `client`."""
    from clientledger.billing.services.invoices import invoice_issue

    drafts = _drafts(client, 2 * REPEAT + 1)
    today = dt.date.today()

    def through_service() -> None:
        invoice_issue(invoice=next(drafts), actor=None, issue_date=today)

    def raw_sql() -> None:
        _issue_raw(connection, next(drafts).pk, client, today)

    through_service()  # the first call fills the template and statement caches
    service_ms = median_ms(through_service, REPEAT)
    floor_ms = median_ms(raw_sql, REPEAT)
    ratio = service_ms / floor_ms
    verdict = "within budget" if ratio <= ISSUING_BUDGET_RATIO else "OVER BUDGET"
    print(
        f"issue one invoice: service median {service_ms:.2f} ms, raw-SQL floor "
        f"{floor_ms:.2f} ms, {ratio:.1f}x ({verdict}: {ISSUING_BUDGET_RATIO:.0f}x)"
    )
    return service_ms, floor_ms


def _issue_raw(connection: Any, invoice_id: int, client: Client, today: dt.date) -> None:
    from django.db import transaction

    now = dt.datetime.now(dt.UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.*, a.*, c.* FROM billing_invoice i"
            " JOIN accounts_agency a ON a.id = i.agency_id JOIN crm_client c ON c.id = i.client_id"
            " WHERE i.id = %s FOR UPDATE OF i",
            [invoice_id],
        )
        cursor.execute(
            "SELECT * FROM crm_contact WHERE client_id = %s AND is_billing_contact"
            " ORDER BY id LIMIT 1",
            [client.pk],
        )
        cursor.execute(
            "SELECT id, quantity, unit_price FROM billing_invoiceline WHERE invoice_id = %s"
            " ORDER BY position",
            [invoice_id],
        )
        (first_id, *_), (second_id, *_) = cursor.fetchall()
        cursor.execute(
            "UPDATE billing_invoiceline l SET net_minor = v.net, total_minor = v.net,"
            " tax_minor = 0, tax_snapshot = '[]' FROM (VALUES (%s, 150000), (%s, 36000))"
            " AS v(id, net) WHERE l.id = v.id",
            [first_id, second_id],
        )
        cursor.execute(
            "INSERT INTO billing_documentcounter (agency_id, series, period, last_value)"
            " VALUES (%s, 'invoice', %s, 1) ON CONFLICT (agency_id, series, period)"
            " DO UPDATE SET last_value = billing_documentcounter.last_value + 1"
            " RETURNING last_value",
            [client.agency_id, str(today.year)],
        )
        number = f"RAW-{today.year}-{cursor.fetchone()[0]:05d}"
        cursor.execute(
            "UPDATE billing_invoice SET number = %s, issue_date = %s, due_date = %s,"
            " status = 'open', issued_at = %s, updated_at = %s, seller_snapshot = %s,"
            " buyer_snapshot = %s, subtotal_minor = 186000, total_minor = 186000 WHERE id = %s",
            [number, today, today, now, now, json.dumps({}), json.dumps({}), invoice_id],
        )
        cursor.execute(
            "INSERT INTO billing_ledgerentry (agency_id, client_id, kind, document_type,"
            " document_id, document_reference, amount_minor, currency, occurred_at, created_at)"
            " VALUES (%s, %s, 'invoice_issued', 'billing.invoice', %s, %s, 186000, %s, %s, %s)",
            [client.agency_id, client.pk, invoice_id, number, client.currency, now, now],
        )
        cursor.execute(
            "UPDATE crm_client SET balance_minor = balance_minor + 186000 WHERE id = %s",
            [client.pk],
        )
        cursor.execute(
            "INSERT INTO core_auditevent (agency_id, verb, subject_type, subject_id,"
            " subject_repr, client_id, data, at) VALUES (%s, 'invoice.issued',"
            " 'billing.invoice', %s, %s, %s, %s, %s)",
            [client.agency_id, invoice_id, number, client.pk, "{}", now],
        )
