"""Client CSV export: content, search, permissions, query budget and the import round trip."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.crm.csv_io import CLIENT_COLUMNS, CLIENT_EXPORT_HEADER, clients_import_csv
from clientledger.crm.models import Client
from tests.factories import AgencyFactory, ClientFactory, ContactFactory

Login = Callable[[Membership], HttpClient]

pytestmark = pytest.mark.django_db


def export(http: HttpClient, **params: str) -> bytes:
    response = http.get(reverse("crm_csv:client_export"), params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.ledger_tampered
def test_the_export_lists_every_client_with_balance_and_contact_count(
    agency: Agency, owner_client: HttpClient
) -> None:
    acme = ClientFactory(
        agency=agency,
        name="Acme, Inc.",
        billing_email="billing@acme.example",
        city="Köln",
        tax_exempt=True,
        payment_terms_days=14,
        balance_minor=123456,
    )
    ContactFactory(client=acme)
    ContactFactory(client=acme)
    ClientFactory(agency=agency, name="Tokyo Works", currency="JPY", balance_minor=-500)
    ClientFactory(agency=AgencyFactory(), name="Someone else's client")

    response = owner_client.get(reverse("crm_csv:client_export"))
    content = export(owner_client)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="clients-northwind')
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8-sig").splitlines()[0] == ",".join(CLIENT_EXPORT_HEADER)
    first, second = rows_of(content)
    assert first == {
        "name": "Acme, Inc.",
        "billing_email": "billing@acme.example",
        "address_line1": "",
        "address_line2": "",
        "city": "Köln",
        "postal_code": "",
        "region": "",
        "country": "",
        "currency": "USD",
        "tax_id": "",
        "tax_exempt": "yes",
        "payment_terms_days": "14",
        "notes": "",
        "balance": "1234.56",
        "contacts": "2",
    }
    assert (second["name"], second["balance"], second["tax_exempt"], second["contacts"]) == (
        "Tokyo Works",
        "-500",
        "no",
        "0",
    )


def test_the_export_honours_the_client_list_search(
    agency: Agency, owner_client: HttpClient
) -> None:
    ClientFactory(agency=agency, name="Acme")
    ContactFactory(client=ClientFactory(agency=agency, name="Globex"), name="Hank Scorpio")
    ClientFactory(agency=agency, name="Initech")

    names = [row["name"] for row in rows_of(export(owner_client, q="scorpio"))]

    assert names == ["Globex"]


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(
    agency: Agency, owner_client: HttpClient
) -> None:
    ClientFactory(agency=agency, name='=HYPERLINK("http://evil.example")', notes="@SUM(A1)")

    [row] = rows_of(export(owner_client))

    assert row["name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["notes"] == "'@SUM(A1)"


def test_the_export_runs_the_same_queries_for_5_and_120_clients(
    agency: Agency, owner_client: HttpClient
) -> None:
    def queries_with(count: int) -> int:
        Client.objects.filter(agency=agency).delete()
        clients = Client.objects.bulk_create(
            Client(agency=agency, name=f"Client {n:03}", currency="USD") for n in range(count)
        )
        ContactFactory(client=clients[0])
        with CaptureQueriesContext(connection) as queries:
            assert len(rows_of(export(owner_client))) == count
        return len(queries)

    assert queries_with(5) == queries_with(120)


@pytest.mark.ledger_tampered
def test_an_export_imports_again_into_an_empty_agency(
    agency: Agency, owner_client: HttpClient
) -> None:
    compared = [column.name for column in CLIENT_COLUMNS]
    ClientFactory(
        agency=agency,
        name="Acme, Inc.",
        address_line1="1 Main Street",
        address_line2="Suite 4",
        city="Springfield",
        postal_code="62701",
        region="IL",
        country="United States",
        tax_id="US-123",
        tax_exempt=True,
        payment_terms_days=0,
        notes='Says "hi".\nTwo lines.',
        balance_minor=999,
    )
    ClientFactory(agency=agency, name="-minus Ltd", currency="EUR", payment_terms_days=None)
    ContactFactory(client=Client.objects.get(name="Acme, Inc."))
    fresh = AgencyFactory()

    result = clients_import_csv(agency=fresh, actor=None, file=io.BytesIO(export(owner_client)))

    assert result.created == {"client": 2, "contact": 0}
    assert list(Client.objects.filter(agency=fresh).values(*compared)) == list(
        Client.objects.filter(agency=agency).values(*compared)
    )
    assert set(Client.objects.filter(agency=fresh).values_list("balance_minor", flat=True)) == {0}


def test_viewers_cannot_export_clients(viewer: Membership, login: Login) -> None:
    assert login(viewer).get(reverse("crm_csv:client_export")).status_code == 403


def test_sales_can_export_clients(agency: Agency, sales: Membership, login: Login) -> None:
    ClientFactory(agency=agency, name="Acme")

    assert [row["name"] for row in rows_of(export(login(sales)))] == ["Acme"]
