"""A salesperson's first morning: sign in, add a client, price a deal from the catalog with
live totals, move it through the pipeline, and find it all on the client page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.catalog.models import UnitType
from clientledger.crm.models import Deal, DealStage
from tests.factories import (
    PASSWORD,
    AgencyFactory,
    MembershipFactory,
    ServiceFactory,
    TaxRateFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seller(db: None) -> Membership:
    agency = AgencyFactory(name="Northwind Studio", default_currency="USD")
    vat = TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))
    ServiceFactory(
        agency=agency,
        name="UX design",
        unit_type=UnitType.HOUR,
        default_unit_price=Decimal("150.00"),
        currency="USD",
        default_tax_1=vat,
    )
    return MembershipFactory(agency=agency, role=Role.SALES, user__email="sam@northwind.example")


def test_a_salesperson_prices_a_deal_and_wins_it(
    live_server: LiveServer, page: Page, seller: Membership
) -> None:
    base = live_server.url
    page.goto(f"{base}/")
    page.get_by_label("Email").fill("sam@northwind.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("link", name="Add client").first.click()
    page.get_by_label("Company name").fill("Acme Robotics")
    page.get_by_label("Billing email").fill("not-an-email")
    page.get_by_role("button", name="Create client").click()
    assert page.locator(".invalid-feedback").first.is_visible()
    page.get_by_label("Billing email").fill("ap@acme.example")
    page.get_by_role("button", name="Create client").click()
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    assert "Acme Robotics" in page.locator("h2").first.inner_text()
    client_url = page.url

    client_pk = client_url.rstrip("/").rsplit("/", 1)[1]
    page.goto(f"{base}/clients/deals/new/?client={client_pk}")
    page.get_by_label("Title").fill("Checkout redesign")
    page.get_by_role("button", name="Create deal").click()
    page.wait_for_url(re.compile(r"/deals/\d+/lines/$"))

    page.get_by_role("button", name="Add line").click()
    line = page.locator("[data-line]").last
    line.locator("select[name$='-service']").select_option(label="UX design")
    quantity = line.locator("input[name$='-quantity']")
    quantity.fill("10")
    quantity.dispatch_event("input")
    totals = page.locator("#deal-totals")
    # 10 h x $150.00 = $1,500.00, plus 19% VAT = $1,785.00, computed by the server.
    totals.get_by_text("$1,785.00").wait_for()
    assert "$285.00" in totals.inner_text()
    page.get_by_role("button", name="Save lines").click()
    page.wait_for_url(re.compile(r"/deals/\d+/$"))

    deal = Deal.objects.get(title="Checkout redesign")
    assert deal.lines.get().description
    page.goto(f"{base}/clients/pipeline/")
    card = page.locator("[data-deal-card]", has_text="Checkout redesign")
    card.get_by_label("Move Checkout redesign to another stage").click()
    card.get_by_role("button", name="Won").click()
    page.wait_for_load_state("networkidle")
    for _ in range(50):
        deal.refresh_from_db()
        if deal.stage == DealStage.WON:
            break
        page.wait_for_timeout(100)
    assert deal.stage == DealStage.WON

    page.goto(client_url)
    body = page.locator("body").inner_text()
    assert "Checkout redesign" in body
    assert "$1,500.00" in body
    assert "Won" in body
    page.screenshot(path="var/e2e-client-page.png", full_page=True)
