"""Every page with behaviour of its own, in a real browser under the Content-Security-Policy:
the demo agency's owner drags a deal across the pipeline, edits lines with live totals, spreads
a payment over invoices, confirms an archive, previews a number format and copies a new API
token; the client approves an estimate through its link. The e2e conftest fails the test on
anything the policy blocked."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Dialog, Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.catalog.models import Service
from clientledger.crm.models import Deal, DealStage
from clientledger.demo.data.agency import OWNER_EMAIL
from clientledger.demo.loader import demo_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "ledger-tour-2026"


@pytest.fixture
def owner_page(live_server: LiveServer, page: Page, settings: Settings) -> Page:
    settings.SITE_URL = live_server.url
    demo_load(password=PASSWORD, stdout=StringIO())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def visit(page: Page, base: str, url: str) -> Page:
    response = page.goto(base + url)
    assert response is not None and response.status == 200, url
    assert "'self'" in (response.header_value("Content-Security-Policy") or "")
    page.wait_for_load_state("networkidle")
    return page


def test_the_staff_pages_work_under_the_policy(live_server: LiveServer, owner_page: Page) -> None:
    base, page = live_server.url, owner_page
    for name in (
        "home",
        "crm:client_list",
        "crm:deal_list",
        "billing:estimate_list",
        "billing:invoice_list",
        "payments:payment_list",
        "catalog:service_list",
        "accounts:member_list",
        "payments:stripe_settings",
        "payments:stripe_event_list",
        "recurring:schedule_list",
        "recurring:schedule_new",
    ):
        visit(page, base, reverse(name))
    estimate = Estimate.objects.exclude(status=EstimateStatus.DRAFT).first()
    assert estimate is not None
    visit(page, base, reverse("billing:estimate_detail", args=[estimate.pk]))
    accent = page.locator(".cl-document .cl-doc-accent-bar").evaluate(
        "bar => getComputedStyle(bar).backgroundColor"
    )
    assert accent not in ("rgba(0, 0, 0, 0)", "transparent")
    link = page.locator("#client-link")
    link.click()
    assert link.evaluate("input => input.selectionEnd - input.selectionStart") > len("http://")

    # The pipeline: drag a deal card onto the Won column.
    deal = Deal.objects.exclude(stage=DealStage.WON).exclude(stage=DealStage.LOST).first()
    assert deal is not None
    visit(page, base, reverse("crm:pipeline"))
    card = page.locator(f"[data-move-url='{reverse('crm:deal_move', args=[deal.pk])}']")
    # HTML5 drag and drop needs the mouse moved in steps (Locator.drag_to drops at once).
    won = page.locator("[data-stage='won']").bounding_box()
    assert won is not None
    move_url = reverse("crm:deal_move", args=[deal.pk])
    card.hover()
    page.mouse.down()
    page.mouse.move(won["x"] + 50, won["y"] + 20, steps=10)
    # The board moves the card at once; the server's answer is what is asserted below.
    with page.expect_response(lambda response: response.url.endswith(move_url)):
        page.mouse.up()
    expect(page.locator("[data-stage='won']").get_by_text(deal.title)).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON

    # The line editor: add a line and let the server (htmx) price it.
    visit(page, base, reverse("crm:deal_lines", args=[deal.pk]))
    before = page.locator("#deal-totals").inner_text()
    page.get_by_role("button", name="Add line").click()
    line = page.locator("[data-line]").last
    line.locator("select[name$='-service']").select_option(index=1)
    line.locator("input[name$='-quantity']").fill("3")
    line.locator("input[name$='-quantity']").dispatch_event("input")
    expect(page.locator("#deal-totals")).not_to_have_text(before)

    # Recording a payment spreads the amount over the open invoices.
    invoice = Invoice.objects.filter(status=InvoiceStatus.OPEN).first()
    assert invoice is not None
    visit(page, base, reverse("payments:payment_create") + f"?invoice={invoice.pk}")
    page.locator("[name=amount]").fill("1")
    page.locator("[name=amount]").dispatch_event("input")
    expect(page.locator("[data-allocation-row] input").first).to_have_value(re.compile(r"^1\.00$"))

    # Archiving a service asks first; dismissing keeps it.
    visit(page, base, reverse("catalog:service_list"))
    archived = Service.objects.filter(archived_at__isnull=False).count()
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Archive").first.click()
    page.wait_for_timeout(200)
    assert asked and asked[0].startswith("Archive “")
    assert Service.objects.filter(archived_at__isnull=False).count() == archived

    # The agency settings preview a number format as it is typed (htmx).
    visit(page, base, reverse("accounts:agency_settings"))
    page.locator("[name=invoice_number_format]").fill("BILL-{SEQ:04}")
    expect(page.locator("#invoice_number_format-preview")).to_contain_text("BILL-0001")

    # A new API token is shown once and copied with one click.
    visit(page, base, reverse("accounts:token_list"))
    page.get_by_label("Token name").fill("Accounting export")
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()").startswith("cl_")


def test_the_interactive_api_docs_work_under_the_policy(
    live_server: LiveServer, page: Page
) -> None:
    visit(page, live_server.url, "/api/v1/docs")

    expect(page.get_by_text("ClientLedger API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()


def test_the_client_approves_an_estimate_under_the_policy(
    live_server: LiveServer, browser: Browser, settings: Settings
) -> None:
    settings.SITE_URL = live_server.url
    demo_load(password=PASSWORD, stdout=StringIO())
    estimate = Estimate.objects.filter(status=EstimateStatus.SENT).first()
    assert estimate is not None
    _, token = portal_link_create(document=estimate, actor=None)
    context = browser.new_context()
    try:
        page = context.new_page()
        visit(page, live_server.url, reverse("portal:document", args=[token]))
        brand = page.locator(".cl-document").evaluate(
            "card => getComputedStyle(card).getPropertyValue('--cl-brand').trim()"
        )
        assert brand.lower() == estimate.agency.brand_color.lower()
        page.get_by_role("button", name="Approve estimate").click()
        expect(page.get_by_text("Thank you! The estimate is approved.")).to_be_visible()
    finally:
        context.close()
    estimate.refresh_from_db()
    assert estimate.status == EstimateStatus.APPROVED
