"""The hot write paths against raw-SQL transactions doing the same writes (DESIGN.md
section 9): recording one payment, and creating then issuing one invoice.

Each service path runs against a floor measured in the same run, call for call in turns: the
same rows written and the same rows locked, by hand-written SQL with its parameters prepared
beforehand."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from bench.timing import paired_medians_ms

# DESIGN.md section 9: within 2x of raw SQL on PostgreSQL, 3x of its own floor on SQLite.
WRITE_BUDGET_RATIO = {"postgresql": 2.0, "sqlite": 3.0}
REPEAT = 60


def verdict(label: str, service_ms: float, floor_ms: float, vendor: str) -> str:
    ratio = service_ms / floor_ms
    budget = WRITE_BUDGET_RATIO.get(vendor, 2.0)
    within = "within budget" if ratio <= budget else "OVER BUDGET"
    return (
        f"{label}: service median {service_ms:.2f} ms, raw-SQL floor {floor_ms:.2f} ms, "
        f"{ratio:.1f}x ({within}: {budget:.0f}x)"
    )


def writes_scenario(connection: Any) -> int:
    """Both write paths alone (`BENCH_ONLY=writes`): reported, never failed (see below)."""
    payment_recording(connection)
    invoice_issuing(connection)
    return 0


def payment_recording(connection: Any) -> float:
    """Recording one manual payment of one invoice through the service, against a raw-SQL
    transaction doing the same writes (the same locks, reading the columns the writes are
    decided on; payment, allocation, invoice, ledger entry, client balance, audit event,
    receipt email row, the reporting rollups' day rows).

    Reported, not failed: the ratio is dominated by the ORM's Python time, and a bench that
    always fails on a loaded machine hides the regressions of the other scenarios. Returns the
    ratio of the service to its floor."""
    from django.db import transaction

    from clientledger.accounts.models import Agency
    from clientledger.billing.models import (
        Invoice,
        InvoiceStatus,
        LedgerDay,
        LedgerEntry,
        OverdueAsOf,
        OwedDay,
    )
    from clientledger.core.models import AuditEvent
    from clientledger.crm.models import Client
    from clientledger.notifications.models import EmailMessage
    from clientledger.payments.models import Allocation, Payment
    from clientledger.payments.services.manual import payment_record_manual

    agency = Agency.objects.create(name="Payments bench agency")
    today = dt.date(2026, 11, 24)

    def payer(n: int, invoices: int) -> tuple[Client, Iterator[Invoice]]:
        """A client with `invoices` open invoices of 100.00 to pay, one by one."""
        client = Client.objects.create(
            agency=agency, name=f"Payer {n}", currency="USD", billing_email="ap@payer.example"
        )
        rows = Invoice.objects.bulk_create(
            Invoice(
                agency=agency,
                client=client,
                currency="USD",
                number=f"INV-{n}-{i + 1:05d}",
                status=InvoiceStatus.OPEN,
                issue_date=today,
                due_date=today,
                subtotal_minor=10_000,
                total_minor=10_000,
            )
            for i in range(invoices)
        )
        return client, iter(rows)

    def through_service(client: Client, invoice: Invoice) -> None:
        payment_record_manual(
            agency=agency,
            actor=None,
            client=client,
            amount=Decimal("100.00"),
            currency="USD",
            received_on=today,
            method="bank_transfer",
            allocations=[(invoice, Decimal("100.00"))],
        )

    tables = {
        model.__name__: connection.ops.quote_name(model._meta.db_table)
        for model in (
            Agency,
            Invoice,
            Client,
            Payment,
            Allocation,
            LedgerEntry,
            AuditEvent,
            EmailMessage,
            LedgerDay,
            OwedDay,
            OverdueAsOf,
        )
    }
    receipt = json.dumps(["ap@payer.example"])
    # As large as the references a receipt's context keeps (`email_context`).
    receipt_context = json.dumps(
        {"payment": {"row": "payments.payment", "pk": 1}, "client": {"row": "crm.client", "pk": 1}}
    )
    lock = client_lock = ""
    if connection.features.has_select_for_update:
        lock, client_lock = " FOR UPDATE", f" FOR UPDATE OF {tables['Client']}"

    def raw_sql(client: Client, invoice: Invoice) -> None:
        now = dt.datetime.now(dt.UTC)
        with transaction.atomic(), connection.cursor() as cursor:
            # What the writes are decided on, and only that: the invoice's (is it the
            # client's, open, in the currency? what is left to pay? its due date and deal
            # for the owed sums), the client's (its currency, where the receipt goes) and
            # its agency's (whose name the receipt bears, whose time zone dates the day rows).
            cursor.execute(
                "SELECT client_id, status, currency, total_minor, amount_paid_minor,"
                " amount_credited_minor, due_date, deal_id, number"
                f" FROM {tables['Invoice']} WHERE id = %s{lock}",
                [invoice.pk],
            )
            cursor.fetchall()
            cursor.execute(
                f"SELECT {tables['Client']}.currency, billing_email, {tables['Client']}.name,"
                f" {tables['Agency']}.name, timezone FROM {tables['Client']}"
                f" JOIN {tables['Agency']} ON {tables['Agency']}.id = {tables['Client']}.agency_id"
                f" WHERE {tables['Client']}.id = %s{client_lock}",
                [client.pk],
            )
            cursor.fetchall()
            cursor.execute(
                f"INSERT INTO {tables['Payment']} (agency_id, client_id, method, status,"
                " amount_minor, currency, received_on, reference, notes, failure_message,"
                " created_at) VALUES (%s, %s, 'bank_transfer', 'succeeded', 10000, 'USD', %s,"
                " '', '', '', %s) RETURNING id",
                [agency.pk, client.pk, today, now],
            )
            payment_id = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {tables['Allocation']} (agency_id, payment_id, invoice_id,"
                " amount_minor, created_at) VALUES (%s, %s, %s, 10000, %s)",
                [agency.pk, payment_id, invoice.pk, now],
            )
            cursor.execute(
                f"UPDATE {tables['Invoice']} SET amount_paid_minor = amount_paid_minor + 10000,"
                " status = 'paid', updated_at = %s WHERE id = %s",
                [now, invoice.pk],
            )
            cursor.execute(
                f"INSERT INTO {tables['LedgerEntry']} (agency_id, client_id, kind, document_type,"
                " document_id, document_reference, amount_minor, currency, occurred_at,"
                " created_at) VALUES (%s, %s, 'payment_succeeded', 'payments.payment', %s, %s,"
                " -10000, 'USD', %s, %s)",
                [agency.pk, client.pk, payment_id, f"Payment #{payment_id}", now, now],
            )
            # The balance and what the client owes (overdue too when due before the
            # agency's overdue date) in one statement, as a hand-written writer would.
            cursor.execute(
                f"UPDATE {tables['Client']} SET balance_minor = balance_minor - 10000,"
                " owed_open_minor = owed_open_minor - 10000,"
                " owed_overdue_minor = owed_overdue_minor - CASE WHEN %s < (SELECT as_of FROM"
                f" {tables['OverdueAsOf']} WHERE agency_id = %s) THEN 10000 ELSE 0 END"
                " WHERE id = %s",
                [today, agency.pk, client.pk],
            )
            cursor.execute(
                f"INSERT INTO {tables['AuditEvent']} (agency_id, verb, subject_type, subject_id,"
                " subject_repr, client_id, data, at) VALUES (%s, 'payment.recorded',"
                " 'payments.payment', %s, %s, %s, %s, %s)",
                [agency.pk, payment_id, f"Payment #{payment_id}", client.pk, "{}", now],
            )
            cursor.execute(
                f'INSERT INTO {tables["EmailMessage"]} (agency_id, "to", subject, body_text,'
                " body_html, template, context, status, attempts, next_attempt_at, last_error,"
                " attach_document_type, created_at) VALUES (%s, %s, 'Payment received', '',"
                " '', 'payments/email/receipt', %s, 'queued', 0, %s, '', '', %s)",
                [agency.pk, receipt, receipt_context, now, now],
            )
            # The reporting rollups: the day's collected sum and what the invoice owes.
            cursor.execute(
                f"INSERT INTO {tables['LedgerDay']} (agency_id, day, currency, kind,"
                " amount_minor) VALUES (%s, %s, 'USD', 'payment_succeeded', -10000)"
                " ON CONFLICT (agency_id, day, currency, kind)"
                " DO UPDATE SET amount_minor = excluded.amount_minor + 0",
                [agency.pk, today],
            )
            cursor.execute(
                f"INSERT INTO {tables['OwedDay']} (agency_id, day, currency, due_date,"
                " owed_minor, open_count, paid_minor) VALUES (%s, %s, 'USD', %s, -10000, -1,"
                " 10000) ON CONFLICT (agency_id, day, currency, due_date) DO UPDATE SET"
                " owed_minor = excluded.owed_minor + 0, open_count = excluded.open_count + 0,"
                " paid_minor = excluded.paid_minor + 0",
                [agency.pk, today, today],
            )

    client, invoices = payer(0, 4 * REPEAT)

    def one(record: Callable[[Client, Invoice], None]) -> Callable[[], None]:
        return lambda: record(client, next(invoices))

    one(through_service)()  # the first call fills the template and statement caches
    service_ms, floor_ms = paired_medians_ms(one(through_service), one(raw_sql), repeat=REPEAT)
    vendor = connection.vendor
    print(verdict("record one payment", service_ms, floor_ms, vendor))
    payers = [payer(n, 2 * LOAD_PAYMENTS) for n in range(1, LOAD_THREADS + 1)]
    service_rate = _per_second_under_load(through_service, payers)
    floor_rate = _per_second_under_load(raw_sql, payers)
    print(
        f"record payments under load ({LOAD_THREADS} threads, one client each): "
        f"{service_rate:,.0f}/s through the service, {floor_rate:,.0f}/s raw SQL, "
        f"{floor_rate / service_rate:.1f}x"
    )
    return service_ms / floor_ms


LOAD_THREADS = 4
LOAD_PAYMENTS = 25


def _per_second_under_load(
    record: Callable[[Any, Any], None], payers: list[tuple[Any, Iterator[Any]]]
) -> float:
    """Payments recorded per second by one thread per payer at once, each on its own
    connection, `LOAD_PAYMENTS` each."""
    from django.db import connection

    failures: list[BaseException] = []

    def work(client: Any, invoices: Iterator[Any]) -> None:
        try:
            for _ in range(LOAD_PAYMENTS):
                record(client, next(invoices))
        except BaseException as error:  # a thread's failure fails the scenario, not only it
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=payer) for payer in payers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return len(threads) * LOAD_PAYMENTS / (time.perf_counter() - started)


def invoice_issuing(connection: Any) -> float:
    """Creating a draft invoice of two taxed lines and issuing it through the services, against
    a raw-SQL transaction pair doing the same writes: the draft, its lines and its audit event;
    then the invoice locked with its agency and client, its lines and the billing contact
    read, the next number from the counter row, the issued invoice, the client's balance,
    the ledger entry, the audit event and the reporting rollups' day rows. Returns the ratio
    of the services to their floor."""
    from django.db import transaction

    from clientledger.accounts.models import Agency
    from clientledger.billing.models import (
        DocumentCounter,
        Invoice,
        InvoiceLine,
        LedgerDay,
        LedgerEntry,
        OwedDay,
    )
    from clientledger.billing.services.drafts import invoice_create
    from clientledger.billing.services.invoices import invoice_issue
    from clientledger.catalog.models import TaxRate
    from clientledger.core.models import AuditEvent
    from clientledger.crm.models import Client, Contact
    from clientledger.lines.data import LineData

    agency = Agency.objects.create(name="Issuing bench agency", legal_address="1 Main St")
    client = Client.objects.create(agency=agency, name="Buyer", currency="USD")
    Contact.objects.create(agency=agency, client=client, name="Ann", is_billing_contact=True)
    # Read back as issuing reads it (a percent of 19.0000): the lines stay as priced.
    vat = TaxRate.objects.get(
        pk=TaxRate.objects.create(agency=agency, name="VAT", percent=Decimal("19")).pk
    )
    lines = [
        LineData(
            description=f"Work {n}", quantity=Decimal(3), unit_price=Decimal("120.00"), taxes=[vat]
        )
        for n in range(2)
    ]

    def through_services() -> None:
        draft = invoice_create(agency=agency, actor=None, client=client, lines=lines)
        invoice_issue(invoice=draft, actor=None)

    quote = connection.ops.quote_name
    tables = {
        model.__name__: quote(model._meta.db_table)
        for model in (Invoice, InvoiceLine, Client, Contact, DocumentCounter, LedgerEntry)
    }
    tables |= {model.__name__: quote(model._meta.db_table) for model in (LedgerDay, OwedDay)}
    tables |= {
        model.__name__: quote(model._meta.db_table) for model in (Agency, AuditEvent, TaxRate)
    }
    invoice_insert, invoice_row = _insert_template(
        connection, Invoice(agency=agency, client=client, currency="USD", total_minor=71_400)
    )
    line_insert, line_row = _insert_template(
        connection,
        InvoiceLine(
            agency=agency,
            invoice_id=-1,
            description="Work",
            quantity=Decimal(3),
            unit_price=Decimal("120.00"),
            tax_1=vat,
            net_minor=36_000,
            tax_minor=6_840,
            total_minor=42_840,
        ),
        rows=len(lines),
    )
    lock = (
        " FOR UPDATE OF " + tables["Invoice"] if connection.features.has_select_for_update else ""
    )
    numbered = iter(range(1, 10 * REPEAT))

    def raw_sql() -> None:
        now = dt.datetime.now(dt.UTC)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(invoice_insert, invoice_row)
            invoice_id = cursor.fetchone()[0]
            cursor.execute(line_insert, [invoice_id if v == -1 else v for v in line_row])
            cursor.execute(
                f"INSERT INTO {tables['AuditEvent']} (agency_id, verb, subject_type, subject_id,"
                " subject_repr, client_id, data, at) VALUES (%s, 'invoice.created',"
                " 'billing.invoice', %s, %s, %s, %s, %s)",
                [agency.pk, invoice_id, f"Draft #{invoice_id}", client.pk, "{}", now],
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM {tables['Invoice']} JOIN {tables['Client']} ON"
                f" {tables['Client']}.id = {tables['Invoice']}.client_id"
                f" JOIN {tables['Agency']} ON {tables['Agency']}.id = {tables['Invoice']}.agency_id"
                f" WHERE {tables['Invoice']}.id = %s{lock}",
                [invoice_id],
            )
            cursor.fetchall()
            cursor.execute(
                f"SELECT * FROM {tables['InvoiceLine']} LEFT JOIN {tables['TaxRate']} ON"
                f" {tables['TaxRate']}.id = {tables['InvoiceLine']}.tax_1_id"
                f" WHERE invoice_id = %s ORDER BY position",
                [invoice_id],
            )
            cursor.fetchall()
            cursor.execute(
                f"SELECT name FROM {tables['Contact']} WHERE client_id = %s"
                " AND is_billing_contact ORDER BY id LIMIT 1",
                [client.pk],
            )
            cursor.fetchall()
            cursor.execute(
                f"UPDATE {tables['DocumentCounter']} SET last_value = last_value + 1"
                " WHERE agency_id = %s AND series = 'invoice' AND period = '2026'"
                " RETURNING last_value",
                [agency.pk],
            )
            cursor.fetchall()
            number = f"RAW-{next(numbered):05d}"
            snapshot = json.dumps({"name": "Buyer", "address_lines": []})
            cursor.execute(
                f"UPDATE {tables['Invoice']} SET number = %s, issue_date = %s, due_date = %s,"
                " status = 'open', issued_at = %s, updated_at = %s, seller_snapshot = %s,"
                " buyer_snapshot = %s WHERE id = %s",
                [number, now.date(), now.date(), now, now, snapshot, snapshot, invoice_id],
            )
            # The balance and what the client owes, in one statement (it is not due yet).
            cursor.execute(
                f"UPDATE {tables['Client']} SET balance_minor = balance_minor + 85680,"
                " owed_open_minor = owed_open_minor + 85680 WHERE id = %s",
                [client.pk],
            )
            cursor.execute(
                f"INSERT INTO {tables['LedgerEntry']} (agency_id, client_id, kind, document_type,"
                " document_id, document_reference, amount_minor, currency, occurred_at,"
                " created_at) VALUES (%s, %s, 'invoice_issued', 'billing.invoice', %s, %s,"
                " 85680, 'USD', %s, %s)",
                [agency.pk, client.pk, invoice_id, number, now, now],
            )
            cursor.execute(
                f"INSERT INTO {tables['AuditEvent']} (agency_id, verb, subject_type, subject_id,"
                " subject_repr, client_id, data, at) VALUES (%s, 'invoice.issued',"
                " 'billing.invoice', %s, %s, %s, %s, %s)",
                [agency.pk, invoice_id, number, client.pk, "{}", now],
            )
            # The reporting rollups: the day's issued sum and what the invoice owes.
            cursor.execute(
                f"INSERT INTO {tables['LedgerDay']} (agency_id, day, currency, kind,"
                " amount_minor) VALUES (%s, %s, 'USD', 'invoice_issued', 85680)"
                " ON CONFLICT (agency_id, day, currency, kind)"
                " DO UPDATE SET amount_minor = excluded.amount_minor + 0",
                [agency.pk, now.date()],
            )
            cursor.execute(
                f"INSERT INTO {tables['OwedDay']} (agency_id, day, currency, due_date,"
                " owed_minor, open_count, paid_minor) VALUES (%s, %s, 'USD', %s, 85680, 1, 0)"
                " ON CONFLICT (agency_id, day, currency, due_date) DO UPDATE SET"
                " owed_minor = excluded.owed_minor + 0, open_count = excluded.open_count + 0,"
                " paid_minor = excluded.paid_minor + 0",
                [agency.pk, now.date(), now.date()],
            )

    through_services()  # the first call makes the counter row and fills the caches
    service_ms, floor_ms = paired_medians_ms(through_services, raw_sql, repeat=REPEAT)
    print(verdict("create and issue one invoice", service_ms, floor_ms, connection.vendor))
    print(
        f"issued invoices/s, one at a time: {1000 / service_ms:,.0f} through the services, "
        f"{1000 / floor_ms:,.0f} raw SQL"
    )
    return service_ms / floor_ms


def _insert_template(connection: Any, row: Any, rows: int = 1) -> tuple[str, list[Any]]:
    """An INSERT of `rows` copies of a model row, with its values prepared once (the floor
    pays no per-call preparation); RETURNING the first id."""
    meta = row._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    for field in fields:
        field.pre_save(row, True)
    values = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES"
        f" {placeholders} RETURNING {connection.ops.quote_name(meta.pk.column)}"
    )
    return sql, values * rows
