"""Choosing a service sold by the month fills its row in as billed monthly, and the lines are
saved however soon after the choice the person presses "Save lines"."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.catalog.models import UnitType
from clientledger.crm.models import Deal
from clientledger.lines.choices import Recurrence
from tests.e2e.test_team_journey import sign_in
from tests.factories import PASSWORD, DealFactory, MembershipFactory, ServiceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seller(db: None) -> Membership:
    membership = MembershipFactory(role=Role.SALES, user__email="sam@northwind.example")
    ServiceFactory(
        agency=membership.agency,
        name="SEO retainer",
        unit_type=UnitType.MONTH,
        default_unit_price=Decimal("650.00"),
    )
    return membership


def test_a_monthly_service_added_to_a_deal_is_billed_monthly(
    live_server: LiveServer, page: Page, seller: Membership
) -> None:
    deal = DealFactory(client__agency=seller.agency, title="Search visibility")
    base = live_server.url
    sign_in(page, base, "sam@northwind.example", PASSWORD)

    page.goto(f"{base}/clients/deals/{deal.pk}/lines/")
    line = page.locator("[data-line]").last
    line.locator("select[name$='-service']").select_option(label="SEO retainer")

    assert line.locator("select[name$='-recurrence']").input_value() == "monthly"
    page.get_by_role("button", name="Save lines").click()
    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    assert Deal.objects.get(pk=deal.pk).lines.get().recurrence == Recurrence.MONTHLY
    assert "$650.00 / month" in page.locator("body").inner_text()


def test_a_save_pressed_as_the_recalculated_totals_come_in_is_not_lost(
    live_server: LiveServer, page: Page, seller: Membership
) -> None:
    deal = DealFactory(client__agency=seller.agency, title="Search visibility")
    base = live_server.url
    sign_in(page, base, "sam@northwind.example", PASSWORD)
    # The server is slow with the totals the choice recalculates: they come in only once the
    # person has pressed the button, and before they let go of it.
    held: list[Route] = []
    answering = False

    def totals(route: Route) -> None:
        if answering:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r"/lines/totals/$"), totals)
    page.goto(f"{base}/clients/deals/{deal.pk}/lines/")
    line = page.locator("[data-line]").last
    line.locator("select[name$='-service']").select_option(label="SEO retainer")

    button = page.get_by_role("button", name="Save lines").bounding_box()
    assert button is not None
    page.mouse.move(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    page.mouse.down()
    answering = True
    for route in held:
        route.continue_()
    expect(page.locator("#deal-totals")).to_contain_text("Monthly recurring value")
    page.mouse.up()

    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    assert Deal.objects.get(pk=deal.pk).lines.get().recurrence == Recurrence.MONTHLY
