"""The money dashboard in a browser: its charts render under the Content-Security-Policy,
and a bar of the aging chart opens the invoices of that bucket."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.core import clock
from clientledger.lines.data import LineData
from clientledger.recurring.services import schedule_create
from tests.e2e.test_team_journey import sign_in
from tests.factories import PASSWORD, ClientFactory, MembershipFactory
from tests.reporting.conftest import invoice_issued

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def finance_member(db: None) -> Membership:
    return MembershipFactory(role=Role.FINANCE, user__email="fran@northwind.example")


def test_the_charts_render_and_an_aging_bar_opens_its_invoices(
    live_server: LiveServer, page: Page, finance_member: Membership
) -> None:
    agency = finance_member.agency
    today = clock.agency_today(agency)
    acme = ClientFactory(agency=agency, name="Acme", currency=agency.default_currency)
    late = invoice_issued(
        acme, "400.00", on=today - dt.timedelta(days=40), due=today - dt.timedelta(days=10)
    )
    invoice_issued(acme, "250.00", on=today, due=today + dt.timedelta(days=30))
    schedule_create(
        agency=agency,
        actor=None,
        client=acme,
        name="Care plan",
        start_date=today,
        lines=[LineData(description="Care", quantity=Decimal(1), unit_price=Decimal(90))],
    )
    base = live_server.url
    sign_in(page, base, "fran@northwind.example", PASSWORD)

    for chart in ("aging", "dso", "mrr", "revenue"):
        page.wait_for_selector(f"canvas[data-chart='{chart}'][data-rendered='true']")
    bar = page.evaluate(
        """() => {
          const canvas = document.querySelector("canvas[data-chart='aging']");
          const point = canvas.chart.getDatasetMeta(0).data[1];
          const box = canvas.getBoundingClientRect();
          return {x: box.left + point.x, y: box.top + (point.y + point.base) / 2};
        }"""
    )
    page.mouse.click(bar["x"], bar["y"])

    page.wait_for_url(f"{base}/reports/aging/invoices/?*bucket=1-30*")
    numbers = page.locator("#aging-invoices [data-invoice]").all_inner_texts()
    assert numbers == [late.number]
