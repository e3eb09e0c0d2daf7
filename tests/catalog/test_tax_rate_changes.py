"""Changing how a tax rate applies (compound, inclusive) is refused while lines that are still
priced from it (deals, drafts, estimates awaiting conversion) or a service's default taxes
could then no longer be priced; the refusal names them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency
from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.drafts import estimate_create, invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import TaxRate
from clientledger.catalog.services import tax_rate_update
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal
from clientledger.lines.data import LineData
from tests.factories import ClientFactory, DealFactory, DealLineFactory, ServiceFactory
from tests.factories import TaxRateFactory as RateFactory

pytestmark = pytest.mark.django_db

COMPOUND_FIRST = "VAT is compound, so it can only be the second tax of a line"
MIXED = "inclusive and exclusive taxes cannot be mixed on one line"


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return RateFactory(agency=agency, name="VAT", percent=Decimal("19"))


@pytest.fixture
def levy(agency: Agency) -> TaxRate:
    return RateFactory(agency=agency, name="Levy", percent=Decimal("2"))


@pytest.fixture
def acme(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme Corp")


@pytest.fixture
def website(acme: Client) -> Deal:
    return DealFactory(client=acme, title="Website relaunch")


def taxed(*taxes: TaxRate) -> list[LineData]:
    return [
        LineData(description="Design", quantity=Decimal(1), unit_price=Decimal(100), taxes=[*taxes])
    ]


def draft_invoice(client: Client, *taxes: TaxRate) -> Invoice:
    return invoice_create(agency=client.agency, actor=None, client=client, lines=taxed(*taxes))


def draft_estimate(client: Client, *taxes: TaxRate) -> Estimate:
    return estimate_create(agency=client.agency, actor=None, client=client, lines=taxed(*taxes))


def refusal(rate: TaxRate, **flags: bool) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        tax_rate_update(tax_rate=rate, actor=None, **flags)
    [(field, messages)] = refused.value.message_dict.items()
    assert field in flags
    return messages


def test_making_a_rate_compound_is_refused_on_the_form_naming_the_deal_that_has_it_first(
    owner_client: HttpClient, vat: TaxRate, website: Deal
) -> None:
    DealLineFactory(deal=website, tax_1=vat)

    response = owner_client.post(
        reverse("catalog:taxrate_edit", args=[vat.pk]),
        {"name": "VAT", "percent": "19", "is_compound": "on"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["is_compound"] == [
        f"This change would leave lines that cannot be priced ({COMPOUND_FIRST}) on "
        "deal “Website relaunch”. Change the taxes of those lines first, or add a new tax rate."
    ]
    vat.refresh_from_db()
    assert not vat.is_compound
    assert not AuditEvent.objects.filter(verb="tax_rate.updated").exists()


def test_making_a_rate_inclusive_is_refused_while_drafts_have_it_beside_an_exclusive_tax(
    acme: Client, vat: TaxRate, levy: TaxRate
) -> None:
    invoice = draft_invoice(acme, vat, levy)
    estimate = draft_estimate(acme, vat, levy)
    sent = estimate_send(
        estimate=draft_estimate(acme, vat, levy), actor=None, recipients=["ap@acme.example"]
    )

    messages = refusal(levy, is_inclusive=True)

    assert messages == [
        f"This change would leave lines that cannot be priced ({MIXED}) on "
        f"draft estimate #{estimate.pk}, estimate {sent.number}, draft invoice #{invoice.pk}. "
        "Change the taxes of those lines first, or add a new tax rate."
    ]


def test_a_service_whose_default_taxes_would_break_holds_the_change_back(
    agency: Agency, vat: TaxRate
) -> None:
    ServiceFactory(agency=agency, name="Design", default_tax_1=vat)

    assert "service “Design”" in refusal(vat, is_compound=True)[0]


def test_a_long_list_of_users_is_cut_short_with_a_count(acme: Client, vat: TaxRate) -> None:
    for number in range(8):
        DealLineFactory(deal=DealFactory(client=acme, title=f"Deal {number}"), tax_1=vat)

    [message] = refusal(vat, is_compound=True)

    assert (
        "deal “Deal 0”, deal “Deal 1”, deal “Deal 2”, deal “Deal 3”, deal “Deal 4” and 3 more"
        in (message)
    )


def test_changes_every_line_can_still_be_priced_with_are_saved(
    acme: Client, website: Deal, vat: TaxRate, levy: TaxRate
) -> None:
    DealLineFactory(deal=website, tax_1=vat)
    DealLineFactory(deal=website, tax_1=RateFactory(agency=acme.agency), tax_2=levy)
    draft_invoice(acme, vat)

    tax_rate_update(tax_rate=vat, actor=None, is_inclusive=True)
    tax_rate_update(tax_rate=levy, actor=None, is_compound=True)

    vat.refresh_from_db()
    levy.refresh_from_db()
    assert (vat.is_inclusive, levy.is_compound) == (True, True)


def test_issued_invoices_never_hold_a_rate_back(acme: Client, vat: TaxRate) -> None:
    # An issued invoice's taxes are frozen with it; nothing prices its lines again.
    invoice_issue(invoice=draft_invoice(acme, vat), actor=None)

    tax_rate_update(tax_rate=vat, actor=None, is_compound=True)

    vat.refresh_from_db()
    assert vat.is_compound


def test_lines_that_could_not_be_priced_before_do_not_hold_an_unrelated_change_back(
    website: Deal, vat: TaxRate, levy: TaxRate
) -> None:
    DealLineFactory(deal=website, tax_1=levy, tax_2=vat)
    # Saved around the rule: Levy, the first tax, is compound already.
    TaxRate.objects.filter(pk=levy.pk).update(is_compound=True)

    tax_rate_update(tax_rate=vat, actor=None, is_compound=True)

    vat.refresh_from_db()
    assert vat.is_compound
