"""API lists cost the same number of queries for 10 rows as for 1,000."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency, Membership
from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Client, Contact, Deal, DealLine
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def query_count(api: ApiClient, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, limit=200, status="all")
    assert response.status_code == 200, response.content
    assert response.json()["items"]
    return len(captured)


def add_clients(agency: Agency, count: int) -> None:
    clients = Client.objects.bulk_create(
        Client(agency=agency, name=f"Client {n:04}", currency="USD") for n in range(count)
    )
    Contact.objects.bulk_create(
        Contact(agency=agency, client=client, name=f"Contact of {client.name}")
        for client in clients
    )


def add_contacts(client: Client, count: int) -> None:
    Contact.objects.bulk_create(
        Contact(agency_id=client.agency_id, client=client, name=f"Contact {n:04}")
        for n in range(count)
    )


def add_deals(agency: Agency, owner: Membership, count: int) -> None:
    client = Client.objects.create(agency=agency, name="Deal client", currency="USD")
    vat = TaxRate.objects.create(agency=agency, name=f"VAT {count}", percent=Decimal(19))
    service = Service.objects.create(
        agency=agency, name=f"Design {count}", default_unit_price=Decimal(1), currency="USD"
    )
    deals = Deal.objects.bulk_create(
        Deal(agency=agency, client=client, owner=owner.user, title=f"Deal {n}")
        for n in range(count)
    )
    DealLine.objects.bulk_create(
        DealLine(
            agency=agency,
            deal=deal,
            position=position,
            service=service,
            description="Work",
            quantity=Decimal(2),
            unit_price=Decimal("50.00"),
            tax_1=vat,
        )
        for deal in deals
        for position in range(2)
    )


def add_services(agency: Agency, count: int) -> None:
    vat = TaxRate.objects.create(agency=agency, name=f"Service VAT {count}", percent=Decimal(7))
    Service.objects.bulk_create(
        Service(
            agency=agency,
            name=f"Service {count}-{n:04}",
            default_unit_price=Decimal(100),
            currency="USD",
            default_tax_1=vat,
        )
        for n in range(count)
    )


def add_tax_rates(agency: Agency, count: int) -> None:
    TaxRate.objects.bulk_create(
        TaxRate(agency=agency, name=f"Rate {count}-{n:04}", percent=Decimal(5))
        for n in range(count)
    )


@pytest.mark.parametrize(
    ("path", "add"),
    [
        ("/clients", lambda owner, n: add_clients(owner.agency, n)),
        ("/deals", lambda owner, n: add_deals(owner.agency, owner, n)),
        ("/services", lambda owner, n: add_services(owner.agency, n)),
        ("/tax-rates", lambda owner, n: add_tax_rates(owner.agency, n)),
    ],
)
def test_a_list_costs_the_same_queries_for_10_and_1000_rows(
    owner: Membership,
    owner_api: ApiClient,
    path: str,
    add: Callable[[Membership, int], None],
) -> None:
    add(owner, 10)
    query_count(owner_api, path)  # the first call records the token's use
    few = query_count(owner_api, path)

    add(owner, 990)
    many = query_count(owner_api, path)

    assert few == many
    assert many <= 4


def test_a_client_contact_list_costs_the_same_queries_for_10_and_1000_rows(
    owner: Membership, owner_api: ApiClient
) -> None:
    client = Client.objects.create(agency=owner.agency, name="Big", currency="USD")
    path = f"/clients/{client.pk}/contacts"
    add_contacts(client, 10)
    query_count(owner_api, path)
    few = query_count(owner_api, path)

    add_contacts(client, 990)

    assert query_count(owner_api, path) == few
