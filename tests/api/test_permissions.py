"""Roles decide what a token may do; another agency's records do not exist for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clientledger.accounts.models import Agency, Membership
from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Client, Contact, Deal
from tests.api.conftest import ApiClient
from tests.factories import (
    ContactFactory,
    DealFactory,
    ServiceFactory,
    TaxRateFactory,
    unchecked_api_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(agency: Agency) -> dict[str, Any]:
    contact = ContactFactory(client__agency=agency)
    return {
        "client": contact.client,
        "contact": contact,
        "deal": DealFactory(client=contact.client),
        "service": ServiceFactory(agency=agency),
        "tax_rate": TaxRateFactory(agency=agency),
    }


def reads(r: dict[str, Any]) -> list[str]:
    client, contact = r["client"].pk, r["contact"].pk
    return [
        "/clients",
        f"/clients/{client}",
        f"/clients/{client}/contacts",
        f"/clients/{client}/contacts/{contact}",
        "/deals",
        f"/deals/{r['deal'].pk}",
        "/services",
        f"/services/{r['service'].pk}",
        "/tax-rates",
        f"/tax-rates/{r['tax_rate'].pk}",
    ]


def crm_writes(r: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    client, contact, deal = r["client"].pk, r["contact"].pk, r["deal"].pk
    return [
        ("post", "/clients", {"name": "New"}),
        ("patch", f"/clients/{client}", {"name": "Renamed"}),
        ("post", f"/clients/{client}/contacts", {"name": "New"}),
        ("patch", f"/clients/{client}/contacts/{contact}", {"name": "Renamed"}),
        ("post", "/deals", {"title": "New", "client_id": client}),
        ("patch", f"/deals/{deal}", {"title": "Renamed"}),
        ("put", f"/deals/{deal}/lines", {"lines": []}),
        ("post", f"/deals/{deal}/move", {"stage": "won"}),
    ]


def crm_deletes(r: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    client, contact, deal = r["client"].pk, r["contact"].pk, r["deal"].pk
    return [
        ("delete", f"/clients/{client}/contacts/{contact}", {}),
        ("delete", f"/deals/{deal}", {}),
        ("delete", f"/clients/{client}", {}),
    ]


def catalog_writes(r: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    service, rate = r["service"].pk, r["tax_rate"].pk
    return [
        ("post", "/services", {"name": "New", "default_unit_price": "1"}),
        ("patch", f"/services/{service}", {"name": "Renamed"}),
        ("post", f"/services/{service}/archive", {}),
        ("post", f"/services/{service}/restore", {}),
        ("post", "/tax-rates", {"name": "New", "percent": "5"}),
        ("patch", f"/tax-rates/{rate}", {"name": "Renamed"}),
        ("post", f"/tax-rates/{rate}/archive", {}),
        ("post", f"/tax-rates/{rate}/restore", {}),
    ]


def statuses(api: ApiClient, calls: list[tuple[str, str, dict[str, Any]]]) -> set[int]:
    return {api.request(method, path, body).status_code for method, path, body in calls}


def test_a_viewer_token_reads_nothing_and_writes_nothing(
    viewer: Membership, records: dict[str, Any]
) -> None:
    """The role table bars viewers from API tokens, so one left from before is refused."""
    api = ApiClient(unchecked_api_token(viewer)[1])

    assert {api.get(path).status_code for path in reads(records)} == {401}
    writes = crm_writes(records) + catalog_writes(records) + crm_deletes(records)
    assert statuses(api, writes) == {401}
    assert Client.objects.count() == 1
    assert Deal.objects.get().stage == "lead"
    assert Service.objects.get().archived_at is None


def test_a_forbidden_write_says_which_permission_is_missing(
    sales: Membership, api_as: Callable[[Membership], ApiClient]
) -> None:
    response = api_as(sales).post("/tax-rates", {"name": "New", "percent": "7"})

    assert response.status_code == 403
    assert "catalog.edit" in response.json()["detail"]


def test_sales_edits_the_crm_but_neither_the_catalog_nor_deletes(
    sales: Membership, api_as: Callable[[Membership], ApiClient], records: dict[str, Any]
) -> None:
    api = api_as(sales)

    assert statuses(api, crm_writes(records)) <= {200, 201}
    assert statuses(api, catalog_writes(records)) == {403}
    assert statuses(api, crm_deletes(records)) == {403}
    assert Contact.objects.exists()
    assert TaxRate.objects.get().name != "Renamed"


def test_finance_edits_the_catalog(
    finance: Membership, api_as: Callable[[Membership], ApiClient], records: dict[str, Any]
) -> None:
    assert statuses(api_as(finance), catalog_writes(records)) <= {200, 201}


def test_an_admin_deletes_crm_records(
    admin: Membership, api_as: Callable[[Membership], ApiClient], records: dict[str, Any]
) -> None:
    assert statuses(api_as(admin), crm_deletes(records)) == {204}
    assert not Client.objects.exists()


def test_another_agency_records_are_not_found_for_any_method(
    outsider: Membership, api_as: Callable[[Membership], ApiClient], records: dict[str, Any]
) -> None:
    api = api_as(outsider)
    object_reads: list[tuple[str, str, dict[str, Any]]] = [
        ("get", path, {}) for path in reads(records) if path.count("/") > 1
    ]
    object_writes = [
        call
        for call in crm_writes(records) + catalog_writes(records) + crm_deletes(records)
        if call[1].count("/") > 1
    ]

    for method, path, body in object_reads + object_writes:
        response = api.request(method, path, body)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json() == {"detail": "Not found."}
    assert Client.objects.get().name != "Renamed"
    assert Deal.objects.get().stage == "lead"


def test_another_agency_lists_are_empty(
    outsider: Membership, api_as: Callable[[Membership], ApiClient], records: dict[str, Any]
) -> None:
    api = api_as(outsider)

    for path in ("/clients", "/deals", "/services", "/tax-rates"):
        assert api.get(path, status="all").json()["items"] == [], path
