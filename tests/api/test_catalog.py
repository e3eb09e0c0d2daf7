"""Services and tax rates through the API: CRUD, archive/restore, filters, input errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency, Membership
from clientledger.catalog.models import Service, TaxRate
from tests.api.conftest import ApiClient, errors
from tests.factories import DealFactory, DealLineFactory, ServiceFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


def test_a_tax_rate_is_created_read_updated_archived_and_restored(
    owner_api: ApiClient, agency: Agency
) -> None:
    created = owner_api.post("/tax-rates", {"name": "VAT", "percent": "19.5"})
    assert created.status_code == 201, created.content
    rate = created.json()
    assert rate | {"id": 0, "created_at": ""} == {
        "id": 0,
        "name": "VAT",
        "percent": "19.5",
        "is_compound": False,
        "is_inclusive": False,
        "status": "active",
        "archived_at": None,
        "created_at": "",
    }
    path = f"/tax-rates/{rate['id']}"

    assert owner_api.get(path).json()["name"] == "VAT"
    assert owner_api.patch(path, {"percent": 7}).json()["percent"] == "7"
    assert TaxRate.objects.get(pk=rate["id"]).percent == Decimal(7)

    archived = owner_api.post(f"{path}/archive").json()
    assert (archived["status"], archived["archived_at"] is not None) == ("archived", True)
    assert owner_api.post(f"{path}/restore").json()["status"] == "active"


def test_tax_rates_are_archived_never_deleted(owner_api: ApiClient, agency: Agency) -> None:
    rate = TaxRateFactory(agency=agency)

    assert owner_api.delete(f"/tax-rates/{rate.pk}").status_code == 405
    assert TaxRate.objects.filter(pk=rate.pk).exists()


def test_tax_rates_are_listed_by_status_and_name(owner_api: ApiClient, agency: Agency) -> None:
    TaxRateFactory(agency=agency, name="VAT")
    TaxRateFactory(agency=agency, name="Old VAT")
    old = TaxRateFactory(agency=agency, name="Retired")
    owner_api.post(f"/tax-rates/{old.pk}/archive")

    def names(**query: str) -> list[str]:
        return [r["name"] for r in owner_api.get("/tax-rates", **query).json()["items"]]

    assert names() == ["Old VAT", "VAT"]
    assert names(status="archived") == ["Retired"]
    assert names(status="all", q="vat") == ["Old VAT", "VAT"]
    assert "status" in errors(owner_api.get("/tax-rates", status="gone"))


def test_a_duplicate_tax_rate_name_is_refused(owner_api: ApiClient, agency: Agency) -> None:
    TaxRateFactory(agency=agency, name="VAT")

    response = owner_api.post("/tax-rates", {"name": "vat", "percent": "10"})

    assert "already exists" in errors(response)["name"]


def test_making_a_rate_compound_is_refused_while_a_deal_has_it_as_first_tax(
    owner_api: ApiClient, agency: Agency
) -> None:
    vat = TaxRateFactory(agency=agency, name="VAT")
    DealLineFactory(deal=DealFactory(client__agency=agency, title="Website"), tax_1=vat)

    response = owner_api.patch(f"/tax-rates/{vat.pk}", {"is_compound": True})

    assert "cannot be priced" in errors(response)["is_compound"]
    assert "deal “Website”" in errors(response)["is_compound"]
    vat.refresh_from_db()
    assert not vat.is_compound


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("100.01", "between 0 and 100"),
        ("-1", "between 0 and 100"),
        (19.5, "decimal string"),
        ("nineteen", "decimal string"),
        ("1e2", "decimal string"),
        (True, "decimal string"),
        (None, "decimal string"),
    ],
)
def test_a_bad_tax_percent_is_refused(owner_api: ApiClient, percent: object, message: str) -> None:
    response = owner_api.post("/tax-rates", {"name": "VAT", "percent": percent})

    assert message in errors(response)["percent"]
    assert not TaxRate.objects.exists()


def test_a_service_is_created_with_default_taxes_and_the_agency_currency(
    owner_api: ApiClient, agency: Agency
) -> None:
    vat = TaxRateFactory(agency=agency, name="VAT")

    response = owner_api.post(
        "/services",
        {
            "name": "Design",
            "unit_type": "day",
            "default_unit_price": "800",
            "default_tax_rate_ids": [vat.pk],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["default_unit_price"] == "800.00"
    assert body["currency"] == "USD"
    assert body["default_tax_rate_ids"] == [vat.pk]
    assert body["status"] == "active"
    assert Service.objects.get(pk=body["id"]).default_tax_1 == vat


def test_a_service_is_updated_archived_and_restored(owner_api: ApiClient, agency: Agency) -> None:
    vat = TaxRateFactory(agency=agency)
    service = ServiceFactory(agency=agency, default_tax_1=vat)
    path = f"/services/{service.pk}"

    updated = owner_api.patch(path, {"default_unit_price": "99.125", "default_tax_rate_ids": []})

    assert updated.status_code == 200, updated.content
    assert updated.json()["default_unit_price"] == "99.125"
    assert updated.json()["default_tax_rate_ids"] == []
    assert owner_api.post(f"{path}/archive").json()["status"] == "archived"
    assert owner_api.get(path).json()["status"] == "archived"
    assert owner_api.post(f"{path}/restore").json()["archived_at"] is None
    assert owner_api.delete(path).status_code == 405


def test_services_are_filtered_by_search_status_and_unit(
    owner_api: ApiClient, agency: Agency
) -> None:
    ServiceFactory(agency=agency, name="Design", unit_type="hour")
    ServiceFactory(agency=agency, name="Design retainer", unit_type="month")
    retired = ServiceFactory(agency=agency, name="Design (old)", unit_type="hour")
    owner_api.post(f"/services/{retired.pk}/archive")

    def names(**query: str) -> list[str]:
        return [s["name"] for s in owner_api.get("/services", **query).json()["items"]]

    assert names(q="design") == ["Design", "Design retainer"]
    assert names(q="design", unit_type="hour") == ["Design"]
    assert names(status="archived") == ["Design (old)"]
    assert names(status="all", unit_type="hour") == ["Design", "Design (old)"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"default_unit_price": "-1"}, "default_unit_price", "not be negative"),
        ({"default_unit_price": 12.5}, "default_unit_price", "decimal string"),
        ({"default_unit_price": "12,50"}, "default_unit_price", "decimal string"),
        ({"default_unit_price": "1.12345"}, "default_unit_price", "4 decimal places"),
        ({"currency": "EURO"}, "currency", "ISO 4217"),
        ({"name": ""}, "name", "cannot be blank"),
        ({"unit_type": "week"}, "unit_type", "Input should be"),
        ({"default_tax_rate_ids": [1, 2, 3]}, "default_tax_rate_ids", "at most 2"),
    ],
)
def test_bad_service_input_is_refused_naming_the_field(
    owner_api: ApiClient, payload: dict[str, object], field: str, message: str
) -> None:
    response = owner_api.post("/services", {"name": "Design", "default_unit_price": "1"} | payload)

    assert message in errors(response)[field]
    assert not Service.objects.exists()


def test_service_default_taxes_must_be_active_rates_of_the_agency(
    owner_api: ApiClient, agency: Agency, outsider: Membership
) -> None:
    vat = TaxRateFactory(agency=agency)
    foreign = TaxRateFactory(agency=outsider.agency)
    compound = TaxRateFactory(agency=agency, is_compound=True)

    def refused(ids: list[int]) -> dict[str, str]:
        body = {"name": "Design", "default_unit_price": "1", "default_tax_rate_ids": ids}
        return errors(owner_api.post("/services", body))

    assert refused([vat.pk, foreign.pk]) == {
        "default_tax_rate_ids[1]": "Choose a tax rate of your agency."
    }
    assert "compound" in refused([compound.pk])["default_tax_rate_ids[0]"]
    assert "differ" in refused([vat.pk, vat.pk])["default_tax_rate_ids[1]"]
    assert not Service.objects.exists()
