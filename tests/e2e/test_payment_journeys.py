"""Paying an invoice online, in a real browser: the client opens the invoice link, chooses
card or US bank account, is sent to Stripe Checkout (a stand-in page the browser's router
serves from what the fake Stripe server was asked), and Stripe's signed webhooks reach the
live server over HTTP. The portal, the staff invoice page and the client's balance then tell
the story: card straight to paid, ACH through pending to paid, and ACH through pending to
failed."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, Route
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.billing.models import Invoice
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.lines.data import LineData
from clientledger.notifications.models import EmailMessage
from tests.factories import PASSWORD, AgencyFactory, ClientFactory, MembershipFactory
from tests.payments.stripe_fake import FakeStripe, fake_stripe, signature_header

__all__ = ["fake_stripe"]  # the fake Stripe server, a fixture for every journey here

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CARD = "card"
ACH = "us_bank_account"
TOTAL_MINOR = 120_000
TOTAL = "$1,200.00"
NOTHING = "$0.00"
STAFF_EMAIL = "fiona@northwind.example"
CHECKOUT_URL = re.compile(r"^https://checkout\.stripe\.com/c/pay/(cs_test_\d+)$")
CHECKOUT_TITLE = "Stripe Checkout (test)"


@dataclass(frozen=True)
class Checkout:
    """A Checkout Session our server created: its id, the form the SDK sent Stripe and the
    fake Stripe server that holds it."""

    session_id: str
    form: dict[str, str]
    stripe: FakeStripe

    def session(self, intent_id: str, *, payment_status: str) -> dict[str, Any]:
        """The session as Stripe's checkout.session.* events carry it."""
        return self.stripe.completed_session(
            intent_id, paid=payment_status == "paid", session_id=self.session_id
        )


def _checkout_form(stripe: FakeStripe, session_id: str) -> dict[str, str]:
    # The fake numbers sessions in the order it was asked for them, from 1.
    form: dict[str, str] = stripe.requests[int(session_id.rsplit("_", 1)[1]) - 1]["form"]
    return form


@dataclass(frozen=True)
class Journey:
    """One payment journey: the live server, the open invoice and its portal link, the fake
    Stripe server, and a browser page each for the client and for a logged-in staff member."""

    base: str
    invoice: Invoice
    portal_url: str
    stripe: FakeStripe
    client_page: Page
    staff_page: Page

    # --- the client -------------------------------------------------------------------------

    def pay_now(self, method_label: str) -> Checkout:
        """Open the invoice link, choose how to pay, press Pay now, land on Stripe Checkout
        and come back to the success page."""
        page = self.portal()
        page.get_by_label(method_label).check()
        page.get_by_role("button", name="Pay now").click()
        page.wait_for_url(CHECKOUT_URL)
        assert page.get_by_role("heading", level=1).inner_text() == CHECKOUT_TITLE
        match = CHECKOUT_URL.match(page.url)
        assert match
        checkout = Checkout(
            match.group(1), _checkout_form(self.stripe, match.group(1)), self.stripe
        )
        page.get_by_role("link", name="Complete payment").click()
        page.wait_for_url(checkout.form["success_url"])
        assert page.get_by_role("heading", level=1).inner_text() == "Thank you for your payment"
        return checkout

    def portal(self) -> Page:
        self.client_page.goto(self.portal_url)
        return self.client_page

    # --- Stripe -----------------------------------------------------------------------------

    def stripe_holds(self, intent_id: str, *, status: str, method: str, **extra: Any) -> Any:
        """Put the PaymentIntent in the state Stripe reports when our webhook reads it back."""
        return self.stripe.intent(
            intent_id,
            invoice=self.invoice,
            status=status,
            method=method,
            amount=TOTAL_MINOR,
            **extra,
        )

    def webhook(self, kind: str, obj: dict[str, Any]) -> None:
        """Stripe delivers one signed event to our webhook over HTTP."""
        payload = json.dumps(self.stripe.event(kind, obj))
        request = urllib.request.Request(
            f"{self.base}/webhooks/stripe",
            data=payload.encode(),
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": signature_header(payload),
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert (response.status, response.read()) == (200, b"processed"), kind

    # --- staff ------------------------------------------------------------------------------

    def staff_invoice(self) -> Page:
        page = self.staff_page
        page.goto(self.base + reverse("billing:invoice_detail", args=[self.invoice.pk]))
        return page

    def staff_client_balance(self) -> str:
        page = self.staff_page
        page.goto(self.base + reverse("crm:client_detail", args=[self.invoice.client_id]))
        return page.locator(".subheader:text-is('Outstanding balance') + div").inner_text()


def portal_badge(page: Page) -> str:
    return page.locator(".cl-document .badge").inner_text()


def portal_alerts(page: Page) -> list[str]:
    return page.locator(".alert .alert-title").all_inner_texts()


def staff_badges(page: Page) -> list[str]:
    return page.locator(".page-title .badge").all_inner_texts()


def staff_balance_due(page: Page) -> str:
    return page.locator(".subheader:text-is('Balance due') + div").inner_text()


def assert_checkout_asked(checkout: Checkout, *, method: str, invoice: Invoice) -> None:
    form = checkout.form
    assert form["allowed_payment_method_types[0]"] == method
    assert form["line_items[0][price_data][unit_amount]"] == str(TOTAL_MINOR)
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["metadata[invoice_id]"] == str(invoice.pk)
    assert form["metadata[agency_id]"] == str(invoice.agency_id)


def assert_paid(journey: Journey) -> None:
    portal = journey.portal()
    assert portal_badge(portal) == "Paid"
    assert portal_alerts(portal) == ["Paid"]
    assert "This invoice is paid in full. Thank you!" in portal.locator("body").inner_text()
    assert portal.locator(".cl-amount-due").inner_text() == NOTHING
    assert portal.get_by_role("button", name="Pay now").count() == 0
    staff = journey.staff_invoice()
    assert staff_badges(staff) == ["Paid"]
    assert staff_balance_due(staff) == NOTHING
    assert journey.staff_client_balance() == NOTHING


def ach_payment_processing(journey: Journey, intent_id: str) -> Checkout:
    """The client pays by US bank account; Stripe reports the debit processing, and it shows
    as pending everywhere, paid nowhere."""
    checkout = journey.pay_now("US bank account (ACH)")
    assert_checkout_asked(checkout, method=ACH, invoice=journey.invoice)
    processing = journey.stripe_holds(intent_id, status="processing", method=ACH)
    journey.webhook(
        "checkout.session.completed", checkout.session(intent_id, payment_status="unpaid")
    )
    journey.webhook("payment_intent.processing", processing)

    portal = journey.portal()
    assert portal_badge(portal) == "Payment pending"
    assert portal_alerts(portal) == ["Payment pending"]
    assert (
        f"Your bank payment of {TOTAL} is processing; this usually takes up to 4 business days."
        in portal.locator(".cl-actions").inner_text()
    )
    assert portal.get_by_role("button", name="Pay now").count() == 0
    staff = journey.staff_invoice()
    assert staff_badges(staff) == ["Open", f"Payment pending · {TOTAL}"]
    assert staff_balance_due(staff) == TOTAL
    assert journey.staff_client_balance() == TOTAL
    return checkout


@pytest.fixture
def invoice(db: None) -> Invoice:
    agency = AgencyFactory.create(name="Northwind Studio", default_currency="USD")
    client = ClientFactory.create(
        agency=agency, name="Acme Robotics", currency="USD", billing_email="ap@acme.example"
    )
    draft = invoice_create(
        agency=agency,
        actor=None,
        client=client,
        lines=[LineData(description="Retainer", quantity=Decimal("1"), unit_price=Decimal("1200"))],
    )
    return invoice_issue(invoice=draft, actor=None)


@pytest.fixture
def staff(invoice: Invoice) -> Membership:
    return MembershipFactory.create(
        agency=invoice.agency, role=Role.FINANCE, user__email=STAFF_EMAIL
    )


def stand_in_for_checkout(page: Page, stripe: FakeStripe) -> None:
    """Stripe's Checkout host does not exist here: the browser gets a page with a way back to
    the success URL the session was created with."""

    def fulfil(route: Route) -> None:
        match = CHECKOUT_URL.match(route.request.url)
        assert match, route.request.url
        success_url = html.escape(_checkout_form(stripe, match.group(1))["success_url"])
        route.fulfill(
            content_type="text/html",
            body=f"<h1>{CHECKOUT_TITLE}</h1><a href='{success_url}'>Complete payment</a>",
        )

    page.route("https://checkout.stripe.com/**", fulfil)


@pytest.fixture
def journey(
    live_server: LiveServer,
    browser: Browser,
    page: Page,
    invoice: Invoice,
    staff: Membership,
    fake_stripe: FakeStripe,
    settings: Settings,
) -> Iterator[Journey]:
    settings.SITE_URL = base = live_server.url
    _, token = portal_link_create(document=invoice, actor=None)

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    client_context = browser.new_context()
    client_context.set_default_timeout(10_000)
    client_page = client_context.new_page()
    stand_in_for_checkout(client_page, fake_stripe)
    try:
        yield Journey(
            base=base,
            invoice=invoice,
            portal_url=base + reverse("portal:document", args=[token]),
            stripe=fake_stripe,
            client_page=client_page,
            staff_page=page,
        )
    finally:
        client_context.close()


def test_the_client_pays_by_card_and_everyone_sees_it_paid(journey: Journey) -> None:
    assert journey.staff_client_balance() == TOTAL
    portal = journey.portal()
    assert portal_badge(portal) == "Open"
    assert portal.locator(".cl-amount-due").inner_text() == TOTAL

    checkout = journey.pay_now("Card")
    assert_checkout_asked(checkout, method=CARD, invoice=journey.invoice)

    succeeded = journey.stripe_holds("pi_card", status="succeeded", method=CARD, fee=3510)
    journey.webhook(
        "checkout.session.completed", checkout.session("pi_card", payment_status="paid")
    )
    journey.webhook("payment_intent.succeeded", succeeded)

    assert_paid(journey)
    received = journey.portal().locator(".cl-totals tr", has_text="· Card")
    assert received.locator(".cl-money").inner_text() == TOTAL


def test_an_ach_payment_is_pending_until_the_bank_pays(journey: Journey) -> None:
    checkout = ach_payment_processing(journey, "pi_ach")

    succeeded = journey.stripe_holds("pi_ach", status="succeeded", method=ACH, fee=80)
    journey.webhook(
        "checkout.session.async_payment_succeeded",
        checkout.session("pi_ach", payment_status="paid"),
    )
    journey.webhook("payment_intent.succeeded", succeeded)
    assert_paid(journey)


def test_a_failed_ach_payment_reopens_the_invoice_and_tells_staff(journey: Journey) -> None:
    checkout = ach_payment_processing(journey, "pi_ach")

    failed = journey.stripe_holds(
        "pi_ach",
        status="requires_payment_method",
        method=ACH,
        error="The customer's bank account has insufficient funds.",
    )
    journey.webhook(
        "checkout.session.async_payment_failed",
        checkout.session("pi_ach", payment_status="unpaid"),
    )
    journey.webhook("payment_intent.payment_failed", failed)

    portal = journey.portal()
    assert portal_badge(portal) == "Open"
    assert portal_alerts(portal) == []
    assert portal.locator(".cl-amount-due").inner_text() == TOTAL
    assert portal.get_by_role("button", name="Pay now").is_visible()
    staff = journey.staff_invoice()
    assert staff_badges(staff) == ["Open"]
    assert staff_balance_due(staff) == TOTAL
    assert journey.staff_client_balance() == TOTAL
    alerts = EmailMessage.objects.filter(subject__icontains="failed")
    assert [(alert.subject, alert.to) for alert in alerts] == [
        (f"Northwind Studio: Bank payment of {TOTAL} failed", [STAFF_EMAIL])
    ]

    # The client tries again: the invoice can be paid online as before.
    retry = journey.pay_now("US bank account (ACH)")
    assert_checkout_asked(retry, method=ACH, invoice=journey.invoice)
