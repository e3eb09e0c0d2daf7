"""The heart of the product, in a real browser with real email: staff sends an estimate built
from a deal, the client approves it in one click from the emailed link, staff converts it,
issues and sends the invoice, and the client downloads the invoice PDF."""

from __future__ import annotations

import re
from decimal import Decimal
from email.message import Message

import pytest
from playwright.sync_api import Browser, Page
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.crm.models import Deal
from clientledger.crm.services import deal_lines_replace
from clientledger.jobs.runner import run_sweeps_once
from clientledger.lines.data import LineData
from tests.conftest import SmtpInbox
from tests.factories import (
    PASSWORD,
    AgencyFactory,
    ContactFactory,
    DealFactory,
    MembershipFactory,
    TaxRateFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deal(db: None) -> Deal:
    agency = AgencyFactory(name="Northwind Studio", default_currency="USD")
    vat = TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))
    won = DealFactory(
        agency=agency,
        client__agency=agency,
        client__name="Acme Robotics",
        title="Checkout redesign",
    )
    ContactFactory(
        client=won.client,
        agency=agency,
        name="Ada Client",
        email="ada@acme.example",
        is_billing_contact=True,
    )
    lines = [
        LineData(
            description="UX research", quantity=Decimal(10), unit_price=Decimal(150), taxes=[vat]
        ),
        LineData(
            description="Design system", quantity=Decimal(1), unit_price=Decimal(2500), taxes=[vat]
        ),
    ]
    return deal_lines_replace(deal=won, actor=None, lines=lines)


@pytest.fixture
def staff(deal: Deal) -> Membership:
    return MembershipFactory(
        agency=deal.agency, role=Role.FINANCE, user__email="fiona@northwind.example"
    )


def deliver(inbox: SmtpInbox, *, to: str) -> Message:
    """Run the background sweeps once and return the one new message the SMTP server got
    for `to` (staff notifications travel the same way)."""
    before = len(inbox.received)
    run_sweeps_once()
    new = [m for m in inbox.received[before:] if to in m["To"]]  # type: ignore[index]
    assert len(new) == 1, [m["Subject"] for m in inbox.received[before:]]  # type: ignore[index]
    return new[0]  # type: ignore[return-value]


def portal_link(message: Message) -> str:
    text = next(
        part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    match = re.search(r"https?://\S+/p/[\w-]+/", text)
    assert match, text
    return match.group(0)


def test_from_deal_to_paid_document_in_the_clients_hands(
    live_server: LiveServer,
    page: Page,
    browser: Browser,
    staff: Membership,
    deal: Deal,
    smtp_server: tuple[SmtpInbox, int],
    settings: Settings,
) -> None:
    inbox, port = smtp_server
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill("fiona@northwind.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    # Staff builds the estimate from the deal and sends it.
    page.goto(f"{base}/clients/deals/{deal.pk}/")
    page.get_by_role("button", name="New estimate").click()
    estimate = Estimate.objects.get(deal=deal)
    page.goto(f"{base}/billing/estimates/{estimate.pk}/")
    page.get_by_role("link", name="Send to client").click()
    page.get_by_role("button", name="Send estimate").click()
    page.wait_for_url(re.compile(rf"/billing/estimates/{estimate.pk}/$"))
    estimate.refresh_from_db()
    assert estimate.status == EstimateStatus.SENT and estimate.number

    # The client opens the emailed link and approves with one click.
    estimate_email = deliver(inbox, to="ada@acme.example")
    assert estimate.number in estimate_email["Subject"]
    assert any(part.get_filename() == f"{estimate.number}.pdf" for part in estimate_email.walk())
    client_page = browser.new_context().new_page()
    client_page.goto(portal_link(estimate_email))
    assert "Acme Robotics" in client_page.locator("body").inner_text()
    client_page.get_by_role("button", name="Approve estimate").click()
    client_page.get_by_text("Approved").first.wait_for()
    estimate.refresh_from_db()
    assert estimate.status == EstimateStatus.APPROVED and estimate.viewed_at

    # Staff converts with one click, issues and sends the invoice.
    page.reload()
    page.get_by_role("button", name="Convert to invoice").click()
    page.wait_for_url(re.compile(r"/billing/invoices/\d+/"))
    invoice = Invoice.objects.get(estimate=estimate)
    page.goto(f"{base}/billing/invoices/{invoice.pk}/")
    page.get_by_role("link", name="Issue invoice").click()
    page.get_by_role("button", name="Issue invoice").click()
    page.wait_for_url(re.compile(rf"/billing/invoices/{invoice.pk}/$"))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and invoice.number
    assert invoice.total_minor == estimate.total_minor == 476_000
    page.get_by_role("link", name="Send to client").click()
    page.get_by_role("button", name="Send invoice").click()
    page.wait_for_url(re.compile(rf"/billing/invoices/{invoice.pk}/$"))

    # The client opens the invoice link and downloads the PDF.
    invoice_email = deliver(inbox, to="ada@acme.example")
    client_page.goto(portal_link(invoice_email))
    assert invoice.number in client_page.locator("body").inner_text()
    with client_page.expect_download() as download:
        client_page.get_by_role("link", name="Download PDF").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.value.suggested_filename == f"{invoice.number}.pdf"
