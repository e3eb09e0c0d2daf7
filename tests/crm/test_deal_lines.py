"""The deal line editor: saving lines, per-line errors, catalog rules and live totals."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.core import clock
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Deal, DealLine
from tests.factories import AgencyFactory, DealLineFactory, ServiceFactory, TaxRateFactory

BLANK_ROW = {
    "service": "",
    "description": "",
    "quantity": "1",
    "unit": "hour",
    "unit_price": "",
    "discount_kind": "",
    "discount_value": "",
    "tax_1": "",
    "tax_2": "",
    "recurrence": "one_off",
}


def rows(*lines: dict[str, Any]) -> dict[str, Any]:
    """The editor's POST data: one `row` key per line, then its prefixed fields."""
    data: dict[str, Any] = {"row": [str(key) for key in range(len(lines))]}
    for key, line in enumerate(lines):
        for name, value in {**BLANK_ROW, **line}.items():
            data[f"line-{key}-{name}"] = str(value)
    return data


def design_hours(vat: TaxRate, **changes: Any) -> dict[str, Any]:
    return {
        "description": "Design",
        "quantity": "10",
        "unit_price": "100.00",
        "tax_1": vat.pk,
        **changes,
    }


def save(http: HttpClient, deal: Deal, data: dict[str, Any]) -> Any:
    return http.post(reverse("crm:deal_lines", args=[deal.pk]), data)


def test_saving_lines_stores_them_and_shows_the_totals(
    owner_client: HttpClient, deal: Deal, vat: TaxRate
) -> None:
    response = save(
        owner_client,
        deal,
        rows(
            design_hours(vat),
            {
                "description": "Hosting",
                "unit_price": "50",
                "unit": "month",
                "recurrence": "monthly",
            },
        ),
    )
    assert response.url == reverse("crm:deal_detail", args=[deal.pk])
    lines = list(deal.lines.order_by("position"))
    assert [(line.description, line.quantity, line.tax_1) for line in lines] == [
        ("Design", Decimal("10"), vat),
        ("Hosting", Decimal("1"), None),
    ]
    page = owner_client.get(response.url).content.decode()
    assert "$1,050.00" in page  # subtotal
    assert "$190.00" in page  # VAT
    assert "$1,240.00" in page  # total
    assert "$50.00 per month recurring" in page
    assert AuditEvent.objects.filter(verb="deal.lines_saved", subject_id=deal.pk).exists()


def test_the_editor_shows_the_existing_lines(owner_client: HttpClient, deal_line: DealLine) -> None:
    page = owner_client.get(reverse("crm:deal_lines", args=[deal_line.deal_id])).content
    text = page.decode()
    assert 'value="Discovery workshop"' in text
    assert 'name="line-0-quantity" value="10"' in text
    assert 'name="line-0-unit_price" value="100.00"' in text
    assert "$1,000.00" in text


def test_blank_rows_are_not_lines(owner_client: HttpClient, deal: Deal, vat: TaxRate) -> None:
    save(owner_client, deal, rows(BLANK_ROW, design_hours(vat), BLANK_ROW))
    assert deal.lines.count() == 1


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"quantity": "ten"}, "quantity", "Enter the quantity as a number, e.g. 1.5."),
        ({"quantity": "0"}, "quantity", "The quantity must be greater than zero."),
        ({"unit_price": "-5"}, "unit_price", "The unit price cannot be negative."),
        ({"unit_price": "12,50"}, "unit_price", "Enter the unit price as a number"),
        (
            {"discount_kind": "percent", "discount_value": "150"},
            "discount_value",
            "A percentage discount cannot exceed 100%.",
        ),
        ({"discount_value": "10"}, "discount_kind", "Choose a discount type, or clear the"),
        (
            {"discount_kind": "amount", "discount_value": "-1"},
            "discount_value",
            "The discount cannot be negative.",
        ),
        ({"description": ""}, "description", "Enter a description."),
        ({"unit": "parsec"}, "unit", "Choose a unit from the list."),
        ({"recurrence": "weekly"}, "recurrence", "Choose how often this line is billed"),
        ({"tax_1": "999999"}, "tax_1", "Choose a tax rate of your agency."),
        ({"service": "999999"}, "service", "Choose a service from your agency&#x27;s catalog."),
    ],
)
def test_a_bad_row_shows_its_error_on_that_row_and_nothing_is_saved(
    owner_client: HttpClient,
    deal_line: DealLine,
    vat: TaxRate,
    bad: dict[str, str],
    field: str,
    message: str,
) -> None:
    deal = deal_line.deal
    response = save(owner_client, deal, rows(design_hours(vat), design_hours(vat, **bad)))
    assert response.status_code == 200
    editor = response.context["editor"]
    assert not editor.rows[0].errors
    assert any(message.replace("&#x27;", "'") in error for error in editor.rows[1].errors[field])
    assert message in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert list(deal.lines.values_list("description", flat=True)) == ["Discovery workshop"]


def test_a_compound_tax_cannot_be_the_first_tax(
    owner_client: HttpClient, deal: Deal, agency: Any
) -> None:
    compound = TaxRateFactory(agency=agency, name="Levy", percent=5, is_compound=True)
    response = save(owner_client, deal, rows(design_hours(compound)))
    errors = response.context["editor"].rows[0].errors["tax_1"]
    assert errors == ["Taxes: Levy is compound, so it can only be the second tax of a line."]
    assert not deal.lines.exists()


def test_an_archived_tax_is_flagged_on_the_row_that_carries_it(
    owner_client: HttpClient, deal: Deal, vat: TaxRate
) -> None:
    vat.archived_at = clock.now()
    vat.save()
    response = save(
        owner_client, deal, rows({"description": "Untaxed", "unit_price": "5"}, design_hours(vat))
    )
    editor = response.context["editor"]
    assert not editor.rows[0].errors
    assert editor.rows[1].errors["tax_1"] == ["The tax rate “VAT” is archived."]
    assert not deal.lines.exists()


def test_an_archived_service_is_refused_on_a_new_line(
    owner_client: HttpClient, deal: Deal, design: Service, vat: TaxRate
) -> None:
    design.archived_at = clock.now()
    design.save()
    response = save(owner_client, deal, rows(design_hours(vat, service=design.pk)))
    assert "“Design” is archived and cannot be added." in response.content.decode()
    assert not deal.lines.exists()


def test_an_archived_service_stays_on_a_line_that_already_had_it(
    owner_client: HttpClient, deal_line: DealLine, design: Service, vat: TaxRate
) -> None:
    deal_line.service = design
    deal_line.save()
    design.archived_at = clock.now()
    design.save()
    deal = deal_line.deal
    editor_page = owner_client.get(reverse("crm:deal_lines", args=[deal.pk])).content.decode()
    assert "Design · archived" in editor_page
    response = save(owner_client, deal, rows(design_hours(vat, service=design.pk)))
    assert response.status_code == 302
    assert deal.lines.get().service == design


def test_archived_services_are_not_offered_on_new_lines(
    owner_client: HttpClient, deal: Deal, design: Service
) -> None:
    design.archived_at = clock.now()
    design.save()
    page = owner_client.get(reverse("crm:deal_lines", args=[deal.pk])).content.decode()
    assert 'data-description="Design"' not in page


def test_another_agencys_tax_and_service_are_refused(owner_client: HttpClient, deal: Deal) -> None:
    rival = AgencyFactory()
    foreign_tax = TaxRateFactory(agency=rival)
    foreign_service = ServiceFactory(agency=rival)
    response = save(
        owner_client,
        deal,
        rows(
            {
                "description": "X",
                "unit_price": "1",
                "tax_1": foreign_tax.pk,
                "service": foreign_service.pk,
            }
        ),
    )
    errors = response.context["editor"].rows[0].errors
    assert errors["tax_1"] == ["Choose a tax rate of your agency."]
    assert errors["service"] == ["Choose a service from your agency's catalog."]
    assert not deal.lines.exists()


def test_choosing_a_service_without_javascript_uses_its_defaults(
    owner_client: HttpClient, deal: Deal, design: Service
) -> None:
    save(owner_client, deal, rows({"service": design.pk, "quantity": "2"}))
    line = deal.lines.get()
    assert (line.description, line.unit_price) == ("Design", Decimal("100.00"))


def test_a_service_in_another_currency_lends_no_price(
    owner_client: HttpClient, deal: Deal, agency: Any
) -> None:
    euro_service = ServiceFactory(agency=agency, name="Audit", currency="EUR")
    response = save(owner_client, deal, rows({"service": euro_service.pk}))
    assert response.context["editor"].rows[0].errors["unit_price"] == ["Enter the unit price."]
    page = owner_client.get(reverse("crm:deal_lines", args=[deal.pk])).content.decode()
    assert "Audit (EUR)" in page


def test_service_options_carry_their_defaults_for_the_browser(
    owner_client: HttpClient, deal: Deal, design: Service, vat: TaxRate
) -> None:
    page = owner_client.get(reverse("crm:deal_lines", args=[deal.pk])).content.decode()
    assert (
        f'value="{design.pk}" data-description="Design" data-unit="hour" data-price="100.00" '
        f'data-taxes="{vat.pk}"'
    ) in page


def test_a_monthly_service_is_offered_as_billed_monthly_and_others_as_one_off(
    owner_client: HttpClient, deal: Deal, design: Service, agency: Agency
) -> None:
    retainer = ServiceFactory(agency=agency, name="SEO retainer", unit_type=UnitType.MONTH)

    page = owner_client.get(reverse("crm:deal_lines", args=[deal.pk])).content.decode()

    assert re.search(rf'value="{retainer.pk}" [^>]*data-recurrence="monthly"', page)
    assert re.search(rf'value="{design.pk}" [^>]*data-recurrence="one_off"', page)


def test_the_totals_endpoint_prices_the_rows_on_the_server(
    owner_client: HttpClient, deal: Deal, vat: TaxRate
) -> None:
    response = owner_client.post(
        reverse("crm:deal_lines_totals", args=[deal.pk]),
        rows(design_hours(vat), {"description": "Unfinished", "unit_price": "abc"}),
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "$1,000.00" in page and "19% of $1,000.00" in page and "$190.00" in page
    assert "$1,190.00" in page
    assert "1 line not counted until completed." in page
    assert 'id="line-amount-0" hx-swap-oob="true">$1,000.00<' in page
    assert not deal.lines.exists()


def test_the_totals_of_a_tax_exempt_client_carry_no_tax(
    owner_client: HttpClient, deal: Deal, vat: TaxRate
) -> None:
    deal.client.tax_exempt = True
    deal.client.save()
    response = owner_client.post(
        reverse("crm:deal_lines_totals", args=[deal.pk]), rows(design_hours(vat))
    )
    page = response.content.decode()
    assert "$1,000.00" in page and "$1,190.00" not in page and "is tax-exempt" in page


def test_the_totals_show_the_monthly_recurring_value(owner_client: HttpClient, deal: Deal) -> None:
    response = owner_client.post(
        reverse("crm:deal_lines_totals", args=[deal.pk]),
        rows(
            {"description": "Retainer", "unit_price": "300", "recurrence": "quarterly"},
            {"description": "Licence", "unit_price": "1200", "recurrence": "yearly"},
        ),
    )
    # 300 a quarter and 1,200 a year are 100 + 100 a month.
    assert "Monthly recurring value" in response.content.decode()
    assert "$200.00" in response.content.decode()


def test_too_many_rows_are_refused(owner_client: HttpClient, deal: Deal) -> None:
    response = save(owner_client, deal, rows(*[{"description": "x", "unit_price": "1"}] * 81))
    assert "A deal can have at most 80 lines." in response.content.decode()
    assert not deal.lines.exists()


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"quantity": "NaN"}, "quantity", "Enter the quantity as a number, e.g. 1.5."),
        ({"quantity": "1_000"}, "quantity", "Enter the quantity as a number, e.g. 1.5."),
        ({"quantity": "\u0661\u0660"}, "quantity", "Enter the quantity as a number, e.g. 1.5."),
        (
            {"unit_price": "1e999999"},
            "unit_price",
            "Enter the unit price as a number, e.g. 120.00.",
        ),
        (
            {"unit_price": "Infinity"},
            "unit_price",
            "Enter the unit price as a number, e.g. 120.00.",
        ),
        ({"unit_price": "9" * 5000}, "unit_price", "Enter at most 40 characters."),
        (
            {"discount_kind": "amount", "discount_value": "sNaN"},
            "discount_value",
            "Enter the discount as a number, e.g. 10.",
        ),
    ],
)
def test_line_numbers_follow_the_apis_strict_rules(
    owner_client: HttpClient,
    deal: Deal,
    vat: TaxRate,
    bad: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = save(owner_client, deal, rows(design_hours(vat, **bad)))
    assert response.status_code == 200
    assert response.context["editor"].rows[0].errors[field] == [message]
    assert not deal.lines.exists()


def test_a_line_price_may_group_thousands_with_commas(
    owner_client: HttpClient, deal: Deal, vat: TaxRate
) -> None:
    save(owner_client, deal, rows(design_hours(vat, unit_price="1,250.00")))
    assert deal.lines.get().unit_price == Decimal("1250.00")


def test_a_line_total_above_the_storable_range_is_shown_on_its_row_and_nothing_is_saved(
    owner_client: HttpClient, deal: Deal, vat: TaxRate
) -> None:
    huge = {"description": "Huge", "quantity": "9999999999", "unit_price": "9999999999"}
    response = save(owner_client, deal, rows(design_hours(vat), huge))
    assert response.status_code == 200
    editor = response.context["editor"]
    assert not editor.rows[0].errors
    assert editor.rows[1].errors["unit_price"] == [
        "This line comes to $99,999,999,980,000,000,001.00; "
        "a line must stay below $1,000,000,000,000.00."
    ]
    assert not deal.lines.exists()


def test_lines_that_together_pass_the_bound_are_refused_above_the_rows(
    owner_client: HttpClient, deal: Deal
) -> None:
    half = {"description": "Half", "quantity": "1", "unit_price": "600000000000"}
    response = save(owner_client, deal, rows(half, half))
    assert response.status_code == 200
    assert response.context["editor"].errors == [
        "The lines come to $1,200,000,000,000.00; a document must stay below "
        "$1,000,000,000,000.00, so split them over several documents."
    ]
    assert "split them over several documents" in response.content.decode()
    assert not deal.lines.exists()


def test_lines_saved_beyond_the_bound_before_it_existed_still_show(
    owner_client: HttpClient, deal: Deal
) -> None:
    DealLineFactory(deal=deal, quantity=Decimal("9999999999"), unit_price=Decimal("9999999999"))
    for name in ("crm:deal_detail", "crm:deal_lines"):
        response = owner_client.get(reverse(name, args=[deal.pk]))
        assert response.status_code == 200
        assert "$99,999,999,980,000,000,001.00" in response.content.decode()
