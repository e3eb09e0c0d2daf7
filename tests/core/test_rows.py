"""`core.rows`: the hot paths' one-row statements read and write rows exactly as the ORM
does, in one statement each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_init
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceLine, InvoiceStatus
from clientledger.core.models import AuditEvent
from clientledger.core.rows import (
    row_insert,
    row_new,
    row_update,
    row_write,
    row_write_where_added,
    rows_insert_together,
    rows_lock,
    rows_read,
    rows_values,
)
from clientledger.crm.models import Client
from clientledger.payments.models import Payment
from tests.factories import AgencyFactory, ClientFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def invoice_values(agency: Agency, client: Client, number: str) -> dict[str, object]:
    return {
        "agency": agency,
        "client": client,
        "currency": "USD",
        "number": number,
        "status": InvoiceStatus.OPEN,
        "issue_date": dt.date(2026, 3, 1),
        "due_date": dt.date(2026, 3, 31),
        "issued_at": MOMENT,
        "total_minor": 12_345,
        "tax_breakdown": [{"name": "VAT", "base": "10.00"}],
        "buyer_snapshot": {"name": "Buyer", "address_lines": ["1 Main St"]},
    }


def test_an_inserted_row_reads_back_as_save_writes_it(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    saved = Invoice(**invoice_values(agency, client, "INV-1"))
    saved.save(force_insert=True)
    inserted = Invoice(**invoice_values(agency, client, "INV-2"))

    with CaptureQueriesContext(connection) as queries:
        row_insert(inserted)

    assert len(queries) == 1
    assert inserted.pk is not None and not inserted._state.adding
    columns = [f.attname for f in Invoice._meta.concrete_fields if f.attname not in {"id"}]
    through_orm, written = (
        Invoice.objects.filter(pk__in=[saved.pk, inserted.pk]).order_by("pk").values(*columns)
    )
    stamps = {"created_at", "updated_at"}
    assert {k: v for k, v in written.items() if k not in {"number", *stamps}} == {
        k: v for k, v in through_orm.items() if k not in {"number", *stamps}
    }
    assert all(written[stamp] is not None for stamp in stamps)


def test_an_inserted_row_takes_its_related_rows_ids(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    invoice = Invoice(**invoice_values(agency, client, "INV-1"))
    row_insert(invoice)
    line = InvoiceLine(
        agency=agency,
        invoice=invoice,
        description="Work",
        quantity=Decimal("1.5"),
        unit_price=Decimal("120.50"),
    )

    row_insert(line)

    stored = InvoiceLine.objects.get(pk=line.pk)
    assert (stored.invoice_id, stored.quantity, stored.unit_price) == (
        invoice.pk,
        Decimal("1.5"),
        Decimal("120.50"),
    )


def test_a_new_row_holds_what_the_keyword_constructor_gives_it(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    values = invoice_values(agency, client, "INV-1")

    made, constructed = row_new(Invoice, **values), Invoice(**values)

    columns = [field.attname for field in Invoice._meta.concrete_fields]
    stamps = {"created_at", "updated_at"}
    assert {name: getattr(made, name) for name in columns if name not in stamps} == {
        name: getattr(constructed, name) for name in columns if name not in stamps
    }
    assert (made._state.adding, made._state.db, made.pk) == (True, None, None)
    with CaptureQueriesContext(connection) as queries:
        assert (made.client, made.agency) == (client, agency)
    assert len(queries) == 0


def test_a_new_row_takes_its_unsaved_parents_id_when_inserted(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    invoice = row_new(Invoice, **invoice_values(agency, client, "INV-1"))
    line = row_new(
        InvoiceLine,
        agency=agency,
        invoice=invoice,
        description="Work",
        quantity=Decimal(2),
        unit_price=Decimal(10),
    )
    assert line.invoice_id is None

    row_insert(invoice)
    row_insert(line)

    assert InvoiceLine.objects.get(pk=line.pk).invoice_id == invoice.pk


def test_a_new_row_refuses_a_field_its_model_has_not(agency: Agency) -> None:
    with pytest.raises(TypeError, match="Invoice has no field 'totl_minor'"):
        row_new(Invoice, agency=agency, totl_minor=1)


def test_a_new_row_of_a_model_whose_init_is_listened_to_is_made_through_its_init(
    agency: Agency,
) -> None:
    initialised: list[str] = []

    def receiver(sender: type[Client], instance: Client, **kwargs: object) -> None:
        initialised.append(instance.name)

    post_init.connect(receiver, sender=Client)
    try:
        made = row_new(Client, agency=agency, name="Listened", currency="EUR")
    finally:
        post_init.disconnect(receiver, sender=Client)

    assert initialised == ["Listened"]
    assert (made.agency, made.currency, made._state.adding) == (agency, "EUR", True)


def test_rows_inserted_together_take_one_statement_and_their_ids_in_order(
    agency: Agency,
) -> None:
    client = ClientFactory.create(agency=agency)
    invoice = Invoice(**invoice_values(agency, client, "INV-1"))
    row_insert(invoice)
    lines = [
        InvoiceLine(
            agency=agency,
            invoice=invoice,
            position=position,
            description=f"Work {position}",
            quantity=Decimal(position + 1),
            unit_price=Decimal("10.00"),
        )
        for position in range(3)
    ]

    with CaptureQueriesContext(connection) as queries:
        rows_insert_together(lines)

    assert len(queries) == 1
    stored = {line.pk: line.description for line in InvoiceLine.objects.filter(invoice=invoice)}
    assert stored == {line.pk: line.description for line in lines}
    assert not any(line._state.adding for line in lines)


def test_rows_beyond_one_statements_parameters_go_in_further_statements(
    agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ClientFactory.create(agency=agency)
    invoice = Invoice(**invoice_values(agency, client, "INV-1"))
    row_insert(invoice)
    columns = len([f for f in InvoiceLine._meta.concrete_fields if not f.primary_key])
    # Two rows' parameters per statement at most.
    monkeypatch.setattr(connection.features, "max_query_params", 2 * columns + 1)
    lines = [
        InvoiceLine(
            agency=agency,
            invoice=invoice,
            position=n,
            description=f"Work {n}",
            quantity=Decimal(1),
            unit_price=Decimal("10.00"),
        )
        for n in range(5)
    ]

    with CaptureQueriesContext(connection) as queries:
        rows_insert_together(lines)

    assert len(queries) == 3
    assert sorted(InvoiceLine.objects.filter(invoice=invoice).values_list("pk", flat=True)) == [
        line.pk for line in lines
    ]


def test_a_row_written_from_values_takes_its_defaults_for_the_columns_not_named(
    agency: Agency,
) -> None:
    with CaptureQueriesContext(connection) as queries:
        row_write(
            AuditEvent,
            ("agency_id", "verb", "subject_type", "subject_id", "at"),
            (agency.pk, "test.done", "crm.client", 7, MOMENT),
        )

    assert len(queries) == 1
    event = AuditEvent.objects.get()
    assert (event.verb, event.subject_id, event.at, event.data, event.actor_id) == (
        "test.done",
        7,
        MOMENT,
        {},
        None,
    )


def test_a_json_field_is_stored_as_json(agency: Agency) -> None:
    event = AuditEvent(
        agency=agency,
        verb="test.done",
        subject_type="crm.client",
        subject_id=1,
        data={"amount": "10.00", "lines": [1, 2]},
        at=MOMENT,
    )
    row_insert(event)
    assert AuditEvent.objects.get(pk=event.pk).data == {"amount": "10.00", "lines": [1, 2]}


def test_a_row_already_saved_is_refused(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    with pytest.raises(ValueError, match="new Client row only"):
        row_insert(client)


def test_a_unique_key_taken_fails_as_save_fails(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    fields = {
        "agency": agency,
        "client": client,
        "method": "cash",
        "status": "succeeded",
        "amount_minor": 100,
        "currency": "USD",
        "received_on": dt.date(2026, 3, 1),
        "idempotency_key": "form-1",
    }
    row_insert(Payment(**fields))
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(Payment(**fields))


def test_an_update_saves_only_the_fields_named(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    invoice = Invoice.objects.create(**invoice_values(agency, client, "INV-1"))
    Invoice.objects.filter(pk=invoice.pk).update(notes="written meanwhile")
    invoice.amount_paid_minor = 12_345
    invoice.status = InvoiceStatus.PAID
    invoice.total_minor = 1  # not named: not saved

    with CaptureQueriesContext(connection) as queries:
        row_update(invoice, ["amount_paid_minor", "status"])

    assert len(queries) == 1
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.amount_paid_minor, stored.status, stored.total_minor, stored.notes) == (
        12_345,
        InvoiceStatus.PAID,
        12_345,
        "written meanwhile",
    )


def test_locked_rows_read_as_a_queryset_reads_them_in_id_order(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    invoices = [
        Invoice.objects.create(**invoice_values(agency, client, f"INV-{n}")) for n in range(3)
    ]
    other = ClientFactory.create(agency=AgencyFactory.create())
    Invoice.objects.create(**invoice_values(other.agency, other, "OTHER"))
    ids = [invoices[2].pk, invoices[0].pk]

    with CaptureQueriesContext(connection) as queries:
        locked = rows_lock(Invoice, ids=ids, equal=[("agency", agency.pk)])

    assert len(queries) == 1
    through_orm = list(Invoice.objects.filter(pk__in=ids).order_by("pk"))
    columns = [f.attname for f in Invoice._meta.concrete_fields]
    assert [[getattr(i, c) for c in columns] for i in locked] == [
        [getattr(i, c) for c in columns] for i in through_orm
    ]
    assert all(not invoice._state.adding for invoice in locked)


def test_rows_are_found_by_their_fields_alone(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    open_invoice = Invoice.objects.create(**invoice_values(agency, client, "INV-1"))
    Invoice.objects.create(**{**invoice_values(agency, client, "INV-2"), "status": "paid"})

    locked = rows_lock(
        Invoice, equal=[("agency", agency.pk), ("client", client.pk), ("status", "open")]
    )

    assert [invoice.pk for invoice in locked] == [open_invoice.pk]


def test_related_rows_come_attached_without_a_query(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency, name="Buyer")
    invoice = Invoice.objects.create(**invoice_values(agency, client, "INV-1"))

    (locked,) = rows_lock(Invoice, ids=[invoice.pk], related=["agency", "client"])

    with CaptureQueriesContext(connection) as queries:
        names = (locked.agency.name, locked.agency.timezone, locked.client.name)
    assert len(queries) == 0
    assert names == (agency.name, agency.timezone, "Buyer")


def test_rows_locked_with_fields_read_only_those_and_defer_the_others(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    invoice = Invoice.objects.create(**invoice_values(agency, client, "INV-1"))

    (locked,) = rows_lock(Invoice, ids=[invoice.pk], fields=["number", "total_minor"])

    assert locked.get_deferred_fields() == {
        field.attname
        for field in Invoice._meta.concrete_fields
        if field.name not in {"id", "number", "total_minor"}
    }
    with CaptureQueriesContext(connection) as queries:
        read = (locked.pk, locked.number, locked.total_minor)
    assert len(queries) == 0
    assert read == (invoice.pk, "INV-1", invoice.total_minor)


def test_a_model_whose_init_is_listened_to_is_read_through_its_init(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    initialised: list[int] = []

    def receiver(sender: type[Client], instance: Client, **kwargs: object) -> None:
        initialised.append(instance.pk)

    post_init.connect(receiver, sender=Client)
    try:
        (locked,) = rows_lock(Client, ids=[client.pk])
    finally:
        post_init.disconnect(receiver, sender=Client)

    assert initialised == [client.pk]
    assert (locked.name, locked._state.adding) == (client.name, False)


def test_no_ids_lock_nothing_without_a_statement() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert rows_lock(Invoice, ids=[]) == []
    assert len(queries) == 0


def test_a_nullable_key_is_not_joined() -> None:
    with pytest.raises(ValueError, match="required foreign keys only"):
        rows_lock(Invoice, ids=[1], related=["deal"])


@pytest.mark.parametrize(
    ("amount", "written", "terms_after"),
    [(20, True, 30), (91, False, 10)],
    ids=["within the bound: both rows written", "past the bound: neither"],
)
def test_a_row_is_written_where_the_other_row_is_added_to_within_the_bound(
    agency: Agency, amount: int, written: bool, terms_after: int
) -> None:
    client = ClientFactory.create(agency=agency, payment_terms_days=10)

    with CaptureQueriesContext(connection) as queries:
        answered = row_write_where_added(
            AuditEvent,
            AUDIT_EVENT_COLUMNS,
            (agency.pk, "test.done", "crm.client", 1, MOMENT),
            row=client,
            field="payment_terms_days",
            amount=amount,
            bound=100,
        )

    assert answered is written
    # One statement on PostgreSQL; on SQLite the insert follows a move that took place.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 1 + written)
    client.refresh_from_db()
    assert client.payment_terms_days == terms_after
    events = [(e.verb, e.subject_id, e.at, e.data) for e in AuditEvent.objects.all()]
    assert events == ([("test.done", 1, MOMENT, {})] if written else [])


# The columns the tests' audit events are written from; the others take their defaults.
AUDIT_EVENT_COLUMNS = ("agency_id", "verb", "subject_type", "subject_id", "at")


def lines_second_taxed(agency: Agency) -> tuple[Invoice, InvoiceLine, InvoiceLine]:
    """An invoice of two lines written in reverse order, the second taxed with 19 % VAT."""
    client = ClientFactory.create(agency=agency)
    invoice = Invoice.objects.create(**invoice_values(agency, client, "INV-1"))
    vat = TaxRateFactory.create(agency=agency, name="VAT", percent=Decimal("19"))
    priced = {"quantity": Decimal("1.5"), "unit_price": Decimal("10.00")}
    second = InvoiceLine.objects.create(
        agency=agency, invoice=invoice, position=1, description="Second", tax_1=vat, **priced
    )
    first = InvoiceLine.objects.create(
        agency=agency, invoice=invoice, position=0, description="First", **priced
    )
    return invoice, first, second


def test_read_rows_come_in_the_order_asked_with_empty_nullable_keys_as_none(
    agency: Agency,
) -> None:
    invoice, first, second = lines_second_taxed(agency)

    with CaptureQueriesContext(connection) as queries:
        lines = rows_read(
            InvoiceLine,
            equal=[("invoice", invoice.pk)],
            related=["tax_1", "tax_2"],
            order_by=["position", "id"],
        )
        taxes = [(line.tax_1, line.tax_2) for line in lines]

    assert len(queries) == 1
    assert [line.pk for line in lines] == [first.pk, second.pk]
    assert taxes[0] == (None, None)
    assert taxes[1][0] is not None and taxes[1][0].percent == Decimal("19")
    assert taxes[1][1] is None


def test_values_read_as_values_list_answers_them_through_empty_keys_too(
    agency: Agency,
) -> None:
    invoice, _, _ = lines_second_taxed(agency)
    columns = ["description", "quantity", "tax_1__name", "tax_1__percent", "tax_2__id"]

    with CaptureQueriesContext(connection) as queries:
        values = rows_values(
            InvoiceLine,
            columns=columns,
            equal=[("invoice", invoice.pk)],
            order_by=["position", "id"],
        )

    assert len(queries) == 1
    assert values == list(
        InvoiceLine.objects.filter(invoice=invoice).order_by("position", "id").values_list(*columns)
    )
    assert values[1][2:4] == ("VAT", Decimal("19"))
    assert values[0][2:] == (None, None, None)


@pytest.mark.django_db(transaction=True)
def test_rows_are_locked_only_inside_a_transaction() -> None:
    with pytest.raises(TransactionManagementError):
        rows_lock(Agency, ids=[1])
