"""Pages as people meet them in a real browser at 1440 px: error pages with a way back, the
portal of an invoice paid in part and then in full (how to pay, the PDF with its payments),
long names in tables, the invoice search box, the pipeline's card menu and the favicon."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.roles import Role
from clientledger.billing.services.portal_links import portal_link_create
from tests.billing.documents.test_render import pdf_text, squeezed
from tests.factories import PASSWORD, AgencyFactory, ClientFactory, DealFactory, MembershipFactory
from tests.payments.conftest import issue_invoice
from tests.portal.test_portal_pay import paid_by_transfer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BANK = "Wire to First Harbor Bank, routing 021000089, account 4410 2290 7731."
LONG_NAME = "Roasters" * 25


@pytest.fixture
def agency(db: None, settings: Settings, tmp_path: Path) -> Agency:
    settings.MEDIA_ROOT = tmp_path / "media"
    return AgencyFactory(name="Northwind Studio", payment_instructions=BANK)


@pytest.fixture
def wide_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def member(agency: Agency, role: str) -> Membership:
    return MembershipFactory(agency=agency, role=role, user__email=f"{role}@northwind.example")


def sign_in(page: Page, base: str, membership: Membership) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill(membership.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def downloaded_text(page: Page) -> str:
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    return squeezed(pdf_text(Path(download.value.path()).read_bytes()))


def test_error_pages_say_what_happened_and_lead_back(
    live_server: LiveServer, wide_page: Page, agency: Agency
) -> None:
    base = live_server.url
    sign_in(wide_page, base, member(agency, Role.VIEWER))

    pipeline = f"{base}{reverse('crm:pipeline')}"
    refused = wide_page.goto(f"{base}{reverse('crm:client_create')}", referer=pipeline)
    assert refused is not None and refused.status == 403
    assert wide_page.get_by_role("heading", name="You do not have access to this page").is_visible()
    assert "Your role (Viewer) does not allow this" in wide_page.content()
    wide_page.get_by_role("link", name="Back to the previous page").click()
    wide_page.wait_for_url(pipeline)

    not_allowed = wide_page.goto(f"{base}{reverse('accounts:logout')}")
    assert not_allowed is not None and not_allowed.status == 405
    assert wide_page.get_by_role("heading", name="This address runs an action").is_visible()

    missing = wide_page.goto(f"{base}/no-such-page/")
    assert missing is not None and missing.status == 404
    assert wide_page.get_by_role("heading", name="Page not found").is_visible()
    wide_page.get_by_role("link", name="Back to the dashboard").click()
    wide_page.wait_for_url(f"{base}/")

    icon = wide_page.request.get(f"{base}/favicon.ico")
    assert icon.status == 200 and icon.body()[:4] == b"\x00\x00\x01\x00"


def test_a_client_sees_how_to_pay_and_downloads_the_invoice_with_its_payments(
    live_server: LiveServer, wide_page: Page, agency: Agency
) -> None:
    invoice = issue_invoice(ClientFactory(agency=agency, currency="USD"), "1000.00")
    _, token = portal_link_create(document=invoice, actor=None)
    portal = f"{live_server.url}{reverse('portal:document', args=[token])}"

    paid_by_transfer(invoice, "400.00")
    wide_page.goto(portal)
    how_to_pay = wide_page.locator(".cl-how-to-pay").text_content() or ""
    assert "How to pay" in how_to_pay and BANK in how_to_pay
    in_part = downloaded_text(wide_page)
    assert "Amountpaid$400.00" in in_part and "Balancedue$600.00" in in_part
    assert "PAYMENTSRECEIVED" in in_part and "Banktransfer$400.00" in in_part

    paid_by_transfer(invoice, "600.00")
    wide_page.reload()
    assert wide_page.locator(".cl-how-to-pay").count() == 0
    in_full = downloaded_text(wide_page)
    assert "PAIDINFULL$1,000.00" in in_full and "Balancedue$0.00" in in_full
    assert "Banktransfer$600.00" in in_full and "Balancedue$1,000.00" not in in_full


def test_lists_fit_at_1440_px_and_pipeline_cards_move_through_one_menu(
    live_server: LiveServer, wide_page: Page, agency: Agency
) -> None:
    base = live_server.url
    owner = member(agency, Role.OWNER)
    client = ClientFactory(agency=agency, name=LONG_NAME, currency="USD")
    # Titles hold 200 characters (PostgreSQL enforces it; SQLite does not).
    deal = DealFactory(client=client, title=f"Deal {LONG_NAME}"[:200])
    issue_invoice(client, "100.00")
    sign_in(wide_page, base, owner)

    wide_page.goto(f"{base}{reverse('billing:invoice_list')}")
    search = wide_page.get_by_placeholder("Search by number or client")
    assert search.bounding_box()["width"] >= 300  # type: ignore[index]

    for url in (reverse("billing:invoice_list"), reverse("crm:client_list"), reverse("home")):
        wide_page.goto(f"{base}{url}")
        for table in wide_page.locator(".table-responsive").all():
            overflow = table.evaluate("element => element.scrollWidth - element.clientWidth")
            assert overflow <= 0, (url, overflow)
        name = wide_page.locator(".cl-truncate", has_text=LONG_NAME[:20]).first
        assert name.get_attribute("title") in (LONG_NAME, deal.title)

    wide_page.goto(f"{base}{reverse('crm:pipeline')}")
    card = wide_page.locator("[data-deal-card]", has_text="Deal Roasters")
    assert card.locator("select").count() == 0
    card.get_by_label(re.compile(r"^Move Deal Roasters.* to another stage$")).click()
    card.get_by_role("button", name="Proposal").click()
    wide_page.locator("section[data-stage='proposal'] [data-deal-card]").first.wait_for()
    deal.refresh_from_db()
    assert deal.stage == "proposal"
