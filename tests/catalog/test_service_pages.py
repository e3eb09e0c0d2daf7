"""Service and tax-rate pages: listing, forms with inline errors, archive/restore, roles."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.core import clock
from clientledger.core.models import AuditEvent
from tests.factories import AgencyFactory, ServiceFactory, TaxRateFactory

Login = Callable[[Membership], HttpClient]

pytestmark = pytest.mark.django_db


def service_data(**overrides: str) -> dict[str, str]:
    return {
        "name": "Design",
        "description": "UX and visual design",
        "unit_type": "hour",
        "default_unit_price": "120.00",
        "currency": "USD",
        "default_tax_1": "",
        "default_tax_2": "",
    } | overrides


def test_the_service_list_shows_price_unit_and_default_taxes(
    agency: Agency, owner_client: HttpClient
) -> None:
    vat = TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))
    ServiceFactory(
        agency=agency,
        name="Design",
        description="UX and visual design",
        unit_type=UnitType.DAY,
        default_unit_price=Decimal("950.5"),
        currency="EUR",
        default_tax_1=vat,
    )

    page = owner_client.get(reverse("catalog:service_list")).content.decode()

    assert "Design" in page
    assert "UX and visual design" in page
    assert "€950.50" in page
    assert "VAT (19%)" in page
    assert "Day" in page


def test_an_empty_catalog_invites_to_add_the_first_service(owner_client: HttpClient) -> None:
    page = owner_client.get(reverse("catalog:service_list")).content.decode()

    assert "No services yet" in page
    assert reverse("catalog:service_create") in page


def test_archived_services_are_hidden_from_the_active_list_but_listed_as_archived(
    agency: Agency, owner_client: HttpClient
) -> None:
    ServiceFactory(agency=agency, name="Current work")
    ServiceFactory(agency=agency, name="Old retainer", archived_at=clock.now())
    url = reverse("catalog:service_list")

    active = owner_client.get(url).content.decode()
    archived = owner_client.get(url, {"status": "archived"}).content.decode()
    everything = owner_client.get(url, {"status": "all"}).content.decode()

    assert "Current work" in active and "Old retainer" not in active
    assert "Old retainer" in archived and "Current work" not in archived
    assert "Old retainer" in everything and "Current work" in everything


def test_the_service_list_searches_descriptions_and_filters_by_unit(
    agency: Agency, owner_client: HttpClient
) -> None:
    ServiceFactory(agency=agency, name="Design", description="Brand identity", unit_type="hour")
    ServiceFactory(agency=agency, name="Hosting", description="Servers", unit_type="month")
    url = reverse("catalog:service_list")

    found = owner_client.get(url, {"q": "identity"}).content.decode()
    monthly = owner_client.get(url, {"unit": "month"}).content.decode()

    assert "Design" in found and "Hosting" not in found
    assert "Hosting" in monthly and "Design" not in monthly


def test_the_service_list_pages_through_services_by_name(
    agency: Agency, owner_client: HttpClient
) -> None:
    Service.objects.bulk_create(
        Service(agency=agency, name=f"Service {n:02}", default_unit_price=1, currency="USD")
        for n in range(30)
    )
    url = reverse("catalog:service_list")

    first = owner_client.get(url)
    second = owner_client.get(url, {"after": first.context["page"].next_cursor})

    assert [s.name for s in first.context["page"]][-1] == "Service 24"
    assert [s.name for s in second.context["page"]] == [f"Service {n}" for n in range(25, 30)]


def test_the_service_list_runs_the_same_queries_for_10_and_1000_services(
    agency: Agency, owner_client: HttpClient
) -> None:
    vat, reduced = TaxRateFactory(agency=agency), TaxRateFactory(agency=agency)
    url = reverse("catalog:service_list")

    def queries_with(count: int) -> int:
        Service.objects.filter(agency=agency).delete()
        Service.objects.bulk_create(
            Service(
                agency=agency,
                name=f"Service {n:04}",
                default_unit_price=10,
                currency="USD",
                default_tax_1=vat,
                default_tax_2=reduced,
            )
            for n in range(count)
        )
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url).status_code == 200
        return len(queries)

    assert queries_with(10) == queries_with(1000)


def test_creating_a_service_saves_it_audits_it_and_flashes_a_message(
    agency: Agency, owner: Membership, owner_client: HttpClient
) -> None:
    vat = TaxRateFactory(agency=agency, name="VAT")

    response = owner_client.post(
        reverse("catalog:service_create"), service_data(default_tax_1=str(vat.pk)), follow=True
    )

    service = Service.objects.get(agency=agency)
    assert (service.name, service.default_unit_price, service.default_tax_1) == (
        "Design",
        Decimal("120.00"),
        vat,
    )
    assert AuditEvent.objects.filter(verb="service.created", subject_id=service.pk).exists()
    assert "Service “Design” added." in response.content.decode()


def test_the_new_service_form_preselects_the_agency_currency(
    agency: Agency, owner_client: HttpClient
) -> None:
    agency.default_currency = "EUR"
    agency.save()

    response = owner_client.get(reverse("catalog:service_create"))

    assert response.context["form"]["currency"].value() == "EUR"
    assert "EUR · Euro" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the service&#x27;s name."),
        ("default_unit_price", "-5", "The price cannot be negative."),
        ("default_unit_price", "twelve", "Enter the price as a number, such as 120 or 95.50."),
        ("default_unit_price", "", "Enter a default price (0 is allowed)."),
        ("currency", "XYZ", "“XYZ” is not a currency we know."),
    ],
)
def test_an_invalid_service_form_shows_the_problem_next_to_the_field_and_saves_nothing(
    owner_client: HttpClient, field: str, value: str, message: str
) -> None:
    response = owner_client.post(reverse("catalog:service_create"), service_data(**{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors.keys() == {field}
    assert not Service.objects.exists()


def test_a_duplicate_service_name_is_refused_whatever_its_case(
    agency: Agency, owner_client: HttpClient
) -> None:
    ServiceFactory(agency=agency, name="Design")

    response = owner_client.post(reverse("catalog:service_create"), service_data(name="design"))

    assert "already exists in your catalog" in response.context["form"].errors["name"][0]
    assert Service.objects.filter(agency=agency).count() == 1


def test_a_compound_first_tax_is_refused_inline_by_the_service(
    agency: Agency, owner_client: HttpClient
) -> None:
    compound = TaxRateFactory(agency=agency, name="QST", is_compound=True)

    response = owner_client.post(
        reverse("catalog:service_create"), service_data(default_tax_1=str(compound.pk))
    )

    assert response.context["form"].errors["default_tax_1"] == [
        "A compound tax can only be the second tax."
    ]
    assert not Service.objects.exists()


def test_the_service_form_offers_only_the_agencys_active_tax_rates(
    agency: Agency, owner_client: HttpClient
) -> None:
    TaxRateFactory(agency=agency, name="Current VAT")
    TaxRateFactory(agency=agency, name="Old VAT", archived_at=clock.now())
    TaxRateFactory(agency=AgencyFactory(), name="Rival VAT")

    page = owner_client.get(reverse("catalog:service_create")).content.decode()

    assert "Current VAT" in page
    assert "Old VAT" not in page
    assert "Rival VAT" not in page


def test_another_agencys_tax_rate_cannot_be_posted(owner_client: HttpClient) -> None:
    foreign = TaxRateFactory(agency=AgencyFactory())

    response = owner_client.post(
        reverse("catalog:service_create"), service_data(default_tax_1=str(foreign.pk))
    )

    assert "default_tax_1" in response.context["form"].errors
    assert not Service.objects.exists()


def test_editing_a_service_updates_it_and_audits_the_change(
    agency: Agency, owner_client: HttpClient
) -> None:
    service = ServiceFactory(agency=agency, name="Design", default_unit_price=Decimal("100"))

    response = owner_client.post(
        reverse("catalog:service_edit", args=[service.pk]),
        service_data(name="Design", default_unit_price="150"),
    )

    service.refresh_from_db()
    assert response.status_code == 302
    assert service.default_unit_price == Decimal("150")
    event = AuditEvent.objects.get(verb="service.updated", subject_id=service.pk)
    assert event.data["changes"]["default_unit_price"] == {"from": "100.0000", "to": "150"}


def test_a_service_with_an_archived_default_tax_shows_it_and_asks_for_another(
    agency: Agency, owner_client: HttpClient
) -> None:
    old = TaxRateFactory(agency=agency, name="Old VAT")
    service = ServiceFactory(agency=agency, default_tax_1=old)
    old.archived_at = clock.now()
    old.save()
    url = reverse("catalog:service_edit", args=[service.pk])

    assert "Old VAT (19%) (archived)" in owner_client.get(url).content.decode()
    response = owner_client.post(url, service_data(default_tax_1=str(old.pk)))

    assert response.context["form"].errors["default_tax_1"] == [
        "The tax rate “Old VAT” is archived."
    ]


def test_archiving_and_restoring_a_service_flashes_and_audits_each_step(
    agency: Agency, owner_client: HttpClient
) -> None:
    service = ServiceFactory(agency=agency, name="Design")

    archived = owner_client.post(reverse("catalog:service_archive", args=[service.pk]), follow=True)
    service.refresh_from_db()
    assert service.archived_at is not None
    assert "Service “Design” archived." in archived.content.decode()

    restored = owner_client.post(reverse("catalog:service_restore", args=[service.pk]), follow=True)
    service.refresh_from_db()
    assert service.archived_at is None
    assert "Service “Design” restored." in restored.content.decode()
    assert list(restored.context["page"]) == [service]
    assert list(
        AuditEvent.objects.filter(subject_id=service.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    ) == ["service.archived", "service.restored"]


def test_archiving_needs_a_post(agency: Agency, owner_client: HttpClient) -> None:
    service = ServiceFactory(agency=agency)

    response = owner_client.get(reverse("catalog:service_archive", args=[service.pk]))

    assert response.status_code == 405
    service.refresh_from_db()
    assert service.archived_at is None


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_viewers_and_sales_can_see_the_catalog_but_not_change_it(
    request: pytest.FixtureRequest, agency: Agency, login: Login, role: str
) -> None:
    http = login(request.getfixturevalue(role))
    service = ServiceFactory(agency=agency)
    rate = TaxRateFactory(agency=agency)

    assert http.get(reverse("catalog:service_list")).status_code == 200
    assert http.get(reverse("catalog:taxrate_list")).status_code == 200
    assert http.get(reverse("catalog:service_create")).status_code == 403
    assert http.post(reverse("catalog:service_create"), service_data()).status_code == 403
    assert http.get(reverse("catalog:service_edit", args=[service.pk])).status_code == 403
    assert http.post(reverse("catalog:service_archive", args=[service.pk])).status_code == 403
    assert http.get(reverse("catalog:taxrate_create")).status_code == 403
    assert http.post(reverse("catalog:taxrate_archive", args=[rate.pk])).status_code == 403
    assert not Service.objects.filter(archived_at__isnull=False).exists()
    assert Service.objects.count() == 1


@pytest.mark.parametrize("role", ["finance", "admin", "owner"])
def test_finance_admins_and_owners_can_edit_the_catalog(
    request: pytest.FixtureRequest, agency: Agency, login: Login, role: str
) -> None:
    http = login(request.getfixturevalue(role))

    response = http.post(reverse("catalog:service_create"), service_data())

    assert response.status_code == 302
    assert Service.objects.filter(agency=agency, name="Design").exists()


def test_signed_out_visitors_are_sent_to_the_login_page(client: HttpClient) -> None:
    response = client.get(reverse("catalog:service_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_another_agencys_services_and_tax_rates_are_not_found(
    agency: Agency, outsider: Membership, login: Login
) -> None:
    http = login(outsider)
    service = ServiceFactory(agency=agency)
    rate = TaxRateFactory(agency=agency)

    assert http.get(reverse("catalog:service_edit", args=[service.pk])).status_code == 404
    assert http.post(reverse("catalog:service_archive", args=[service.pk])).status_code == 404
    assert http.post(reverse("catalog:service_restore", args=[service.pk])).status_code == 404
    assert http.get(reverse("catalog:taxrate_edit", args=[rate.pk])).status_code == 404
    assert http.post(reverse("catalog:taxrate_archive", args=[rate.pk])).status_code == 404
    assert "Design" not in http.get(reverse("catalog:service_list")).content.decode()
    service.refresh_from_db()
    assert service.archived_at is None


def test_the_tax_rate_list_shows_rates_with_their_flags_and_usage(
    agency: Agency, owner_client: HttpClient
) -> None:
    vat = TaxRateFactory(agency=agency, name="VAT", percent=Decimal("20"))
    TaxRateFactory(agency=agency, name="QST", percent=Decimal("9.975"), is_compound=True)
    ServiceFactory(agency=agency, default_tax_1=vat)
    ServiceFactory(agency=agency, default_tax_1=vat)

    response = owner_client.get(reverse("catalog:taxrate_list"))

    rates = {rate.name: rate for rate in response.context["page"]}
    assert (rates["VAT"].service_count, rates["QST"].service_count) == (2, 0)
    page = response.content.decode()
    assert "9.975%" in page
    assert "Compound" in page
    assert "2 services" in page


def test_creating_a_tax_rate_saves_it(agency: Agency, owner_client: HttpClient) -> None:
    response = owner_client.post(
        reverse("catalog:taxrate_create"),
        {"name": "GST", "percent": "5", "is_inclusive": "on"},
        follow=True,
    )

    rate = TaxRate.objects.get(agency=agency)
    assert (rate.name, rate.percent, rate.is_compound, rate.is_inclusive) == (
        "GST",
        Decimal("5"),
        False,
        True,
    )
    assert "Tax rate “GST (5%)” added." in response.content.decode()


@pytest.mark.parametrize("percent", ["-1", "100.01", "250"])
def test_a_tax_rate_outside_0_to_100_percent_is_refused_with_a_clear_message(
    owner_client: HttpClient, percent: str
) -> None:
    response = owner_client.post(
        reverse("catalog:taxrate_create"), {"name": "VAT", "percent": percent}
    )

    assert response.context["form"].errors["percent"] == ["Enter a percentage between 0 and 100."]
    assert not TaxRate.objects.exists()


def test_a_duplicate_tax_rate_name_is_refused(agency: Agency, owner_client: HttpClient) -> None:
    TaxRateFactory(agency=agency, name="VAT")

    response = owner_client.post(reverse("catalog:taxrate_create"), {"name": "VAT", "percent": "7"})

    assert "already exists" in response.context["form"].errors["name"][0]
    assert TaxRate.objects.count() == 1


def test_editing_a_tax_rate_changes_its_percent(agency: Agency, owner_client: HttpClient) -> None:
    rate = TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))

    owner_client.post(
        reverse("catalog:taxrate_edit", args=[rate.pk]), {"name": "VAT", "percent": "21"}
    )

    rate.refresh_from_db()
    assert rate.percent == Decimal("21")


def test_an_archived_tax_rate_moves_to_the_archived_tab_and_can_be_restored(
    agency: Agency, owner_client: HttpClient
) -> None:
    rate = TaxRateFactory(agency=agency, name="Old VAT")

    def listed(status: str) -> list[TaxRate]:
        response = owner_client.get(reverse("catalog:taxrate_list"), {"status": status})
        return list(response.context["page"])

    owner_client.post(reverse("catalog:taxrate_archive", args=[rate.pk]))
    assert (listed("active"), listed("archived")) == ([], [rate])

    owner_client.post(reverse("catalog:taxrate_restore", args=[rate.pk]))
    assert (listed("active"), listed("archived")) == ([rate], [])


def test_the_edit_forms_show_amounts_as_a_person_would_type_them(
    agency: Agency, owner_client: HttpClient
) -> None:
    service = ServiceFactory(agency=agency, default_unit_price=Decimal("49.9"), currency="USD")
    rate = TaxRateFactory(agency=agency, percent=Decimal("7.5"))

    service_form = owner_client.get(reverse("catalog:service_edit", args=[service.pk]))
    rate_form = owner_client.get(reverse("catalog:taxrate_edit", args=[rate.pk]))

    assert service_form.context["form"]["default_unit_price"].value() == "49.90"
    assert rate_form.context["form"]["percent"].value() == "7.5"


@pytest.mark.parametrize("price", ["NaN", "1e999999", "9" * 5000, "1_000", "\u0661\u0662\u0660"])
def test_a_service_price_must_be_a_plain_number(owner_client: HttpClient, price: str) -> None:
    response = owner_client.post(
        reverse("catalog:service_create"), service_data(default_unit_price=price)
    )

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"default_unit_price"}
    assert not Service.objects.exists()


def test_a_service_price_may_group_thousands_with_commas(owner_client: HttpClient) -> None:
    owner_client.post(
        reverse("catalog:service_create"), service_data(default_unit_price="12,500.00")
    )

    assert Service.objects.get().default_unit_price == Decimal("12500.00")


@pytest.mark.parametrize("percent", ["Infinity", "1e1", "7,5", "\u0661\u0669"])
def test_a_tax_rate_percent_must_be_a_plain_number(owner_client: HttpClient, percent: str) -> None:
    response = owner_client.post(
        reverse("catalog:taxrate_create"), {"name": "VAT", "percent": percent}
    )

    assert response.context["form"].errors.keys() == {"percent"}
    assert not TaxRate.objects.exists()
