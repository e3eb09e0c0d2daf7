"""`core.bulk`: many rows inserted, moved or saved with their own values in few statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceLine, InvoiceStatus
from clientledger.core.bulk import rows_add, rows_insert, rows_update, rows_write
from clientledger.crm.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_nothing_else_changes(agency: Agency) -> None:
    clients = [ClientFactory.create(agency=agency, name=f"Client {n}") for n in range(3)]
    untouched = ClientFactory.create(agency=agency, name="Untouched", payment_terms_days=7)
    for number, client in enumerate(clients):
        client.name = f"Renamed {number}"
        client.payment_terms_days = 10 + number
        client.city = "not saved"
    with CaptureQueriesContext(connection) as queries:
        rows_update(clients, ["name", "payment_terms_days"])
    assert len(queries) == 1
    stored = Client.objects.filter(pk__in=[c.pk for c in clients]).order_by("pk")
    assert [(c.name, c.payment_terms_days, c.city) for c in stored] == [
        ("Renamed 0", 10, ""),
        ("Renamed 1", 11, ""),
        ("Renamed 2", 12, ""),
    ]
    untouched.refresh_from_db()
    assert (untouched.name, untouched.payment_terms_days) == ("Untouched", 7)


def test_a_null_is_saved_as_a_null(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency, payment_terms_days=30)
    client.payment_terms_days = None
    rows_update([client], ["payment_terms_days"])
    client.refresh_from_db()
    assert client.payment_terms_days is None


def test_inserted_rows_read_back_as_bulk_create_writes_them(agency: Agency) -> None:
    same = {"agency": agency, "city": "Lyon", "billing_email": "ap@client.example"}
    through_orm = ClientFactory.build(name="Through the ORM", **same)
    inserted = ClientFactory.build(name="Inserted", **same)
    Client.objects.bulk_create([through_orm])
    rows_insert([inserted])
    assert inserted.pk is not None and not inserted._state.adding
    stored = Client.objects.get(pk=inserted.pk)
    expected = Client.objects.get(pk=through_orm.pk)
    stamps = {"created_at", "updated_at"}
    fields = [
        f.attname for f in Client._meta.concrete_fields if f.attname not in {"id", "name", *stamps}
    ]
    assert all(getattr(stored, stamp) is not None for stamp in stamps)
    assert {name: getattr(stored, name) for name in fields} == {
        name: getattr(expected, name) for name in fields
    }


def test_inserted_rows_get_their_ids_in_order(agency: Agency) -> None:
    clients = [Client(agency=agency, name=f"Client {n}", currency="USD") for n in range(3)]
    rows_insert(clients)
    assert [Client.objects.get(pk=client.pk).name for client in clients] == [
        "Client 0",
        "Client 1",
        "Client 2",
    ]


def test_a_row_already_saved_is_refused(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency)
    with pytest.raises(ValueError, match="new Client rows only"):
        rows_insert([client])


def test_rows_move_by_their_own_amounts_within_the_bound(agency: Agency) -> None:
    low = ClientFactory.create(agency=agency, payment_terms_days=10)
    high = ClientFactory.create(agency=agency, payment_terms_days=90)
    moved = rows_add(Client, "payment_terms_days", {low.pk: 50, high.pk: 20}, bound=100)
    assert moved == {low.pk}
    low.refresh_from_db()
    high.refresh_from_db()
    assert (low.payment_terms_days, high.payment_terms_days) == (60, 90)


def test_written_decimals_dates_and_moments_read_back_as_the_orm_saves_them(
    agency: Agency,
) -> None:
    client = ClientFactory.create(agency=agency)
    moment = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    values = {
        "agency_id": agency.pk,
        "client_id": client.pk,
        "currency": "USD",
        "number": "",
        "notes": "",
        "terms": "",
        "issue_date": dt.date(2026, 3, 1),
        "due_date": dt.date(2026, 3, 31),
        "issued_at": moment,
        "created_at": moment,
        "updated_at": moment,
        "tax_breakdown": [{"name": "VAT", "base": "10.00"}],
    }
    saved = Invoice.objects.create(**values)
    rows_write(Invoice, list(values), [tuple(values.values())])
    columns = [f.attname for f in Invoice._meta.concrete_fields if f.attname != "id"]
    through_orm, written = Invoice.objects.order_by("pk").values(*columns)
    assert written == through_orm
    written_id = Invoice.objects.exclude(pk=saved.pk).get().pk
    line_values = {
        "agency_id": agency.pk,
        "invoice_id": written_id,
        "description": "Work",
        "quantity": Decimal("1.5"),
        "unit_price": Decimal("120.50"),
        "discount_value": Decimal("0"),
    }
    InvoiceLine.objects.create(**line_values)
    rows_write(InvoiceLine, list(line_values), [tuple(line_values.values())])
    line_columns = [f.attname for f in InvoiceLine._meta.concrete_fields if f.attname != "id"]
    through_orm, written = InvoiceLine.objects.order_by("pk").values(*line_columns)
    assert written == through_orm
    assert written["quantity"] == Decimal("1.5") and written["unit_price"] == Decimal("120.50")


def test_one_moment_in_two_zones_and_a_choice_are_written_as_the_orm_saves_them(
    agency: Agency,
) -> None:
    client = ClientFactory.create(agency=agency)
    moment = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    same_moment_elsewhere = moment.astimezone(ZoneInfo("America/New_York"))
    later = moment + dt.timedelta(microseconds=1)
    columns = ["agency_id", "client_id", "currency", "status", "created_at", "updated_at"]
    rows_write(
        Invoice,
        columns,
        [
            (agency.pk, client.pk, "USD", InvoiceStatus.DRAFT, at, at)
            for at in (moment, same_moment_elsewhere, later)
        ],
    )
    written = Invoice.objects.order_by("pk").values_list("status", "created_at", "updated_at")
    assert list(written) == [
        ("draft", moment, moment),
        ("draft", moment, moment),
        ("draft", later, later),
    ]


def test_inserting_a_row_leaves_its_file_name_a_name(agency: Agency) -> None:
    # Read through the field, the name becomes a FieldFile pointing back at its row: a
    # reference cycle per row, which only the cyclic collector frees.
    invoice = Invoice(agency=agency, client=ClientFactory.create(agency=agency), currency="USD")
    rows_insert([invoice])
    assert type(invoice.__dict__["pdf"]) is str
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == ""
