"""Issue 10's promise, in a real browser with real email: a won deal becomes a retainer in
three clicks, the billing run makes the next period's invoice and emails it, and the client
opens the emailed link and pays it by card (Stripe Checkout stood in for, Stripe's signed
webhooks reaching the live server)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.catalog.models import UnitType
from clientledger.core import clock
from clientledger.crm.models import Deal, DealStage
from clientledger.crm.services import deal_lines_replace
from clientledger.lines.choices import Recurrence
from clientledger.lines.data import LineData
from clientledger.recurring.calculations import next_month_start
from clientledger.recurring.models import PeriodAction, RecurringSchedule
from tests.conftest import SmtpInbox
from tests.e2e.test_estimate_to_invoice_journey import deliver, portal_link
from tests.e2e.test_payment_journeys import (
    CARD,
    TOTAL,
    Journey,
    assert_paid,
    stand_in_for_checkout,
)
from tests.factories import PASSWORD, AgencyFactory, ContactFactory, DealFactory, MembershipFactory
from tests.payments.stripe_fake import FakeStripe, fake_stripe

__all__ = ["fake_stripe"]  # the fake Stripe server, a fixture of the journey

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF_EMAIL = "fiona@northwind.example"
CLIENT_EMAIL = "ada@acme.example"


@pytest.fixture
def won_deal(db: None) -> Deal:
    agency = AgencyFactory(name="Northwind Studio", default_currency="USD")
    deal = DealFactory(
        agency=agency,
        client__agency=agency,
        client__name="Acme Robotics",
        client__currency="USD",
        client__billing_email=CLIENT_EMAIL,
        title="Website care plan",
        stage=DealStage.WON,
    )
    ContactFactory(
        client=deal.client,
        agency=agency,
        name="Ada Client",
        email=CLIENT_EMAIL,
        is_billing_contact=True,
    )
    care = LineData(
        description="Care plan",
        quantity=Decimal(1),
        unit_price=Decimal(1200),
        unit=UnitType.MONTH,
        recurrence=Recurrence.MONTHLY,
    )
    return deal_lines_replace(deal=deal, actor=None, lines=[care])


@pytest.fixture
def staff(won_deal: Deal) -> Membership:
    return MembershipFactory(agency=won_deal.agency, role=Role.FINANCE, user__email=STAFF_EMAIL)


@pytest.fixture
def real_email(smtp_server: tuple[SmtpInbox, int], settings: Settings) -> Iterator[SmtpInbox]:
    inbox, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox


def test_a_won_deal_becomes_a_retainer_whose_emailed_invoice_the_client_pays(
    live_server: LiveServer,
    page: Page,
    browser: Browser,
    staff: Membership,
    won_deal: Deal,
    real_email: SmtpInbox,
    fake_stripe: FakeStripe,
    settings: Settings,
) -> None:
    settings.SITE_URL = base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    # Three clicks from the deal: "Set up retainer", "Issue and email", confirm.
    page.goto(f"{base}/clients/deals/{won_deal.pk}/")
    page.get_by_role("link", name="Set up retainer").click()
    page.get_by_label("Issue and email the invoice").check()
    page.get_by_role("button", name="Set up retainer").click()
    page.wait_for_url(re.compile(r"/recurring/\d+/$"))
    schedule = RecurringSchedule.objects.get(deal=won_deal)
    first_day = next_month_start(clock.agency_today(won_deal.agency))
    assert (schedule.start_date, schedule.on_period) == (first_day, PeriodAction.ISSUE_AND_SEND)
    assert "$1,200.00" in page.locator("body").inner_text()

    # The billing run for the next period makes the invoice; the sweeps email it.
    as_of = dt.datetime.combine(first_day, dt.time(12), tzinfo=dt.UTC)
    out = io.StringIO()
    call_command("billing", "run", "--as-of", as_of.isoformat(), stdout=out)
    assert "periods due 1 · done 1 · failed 0" in out.getvalue(), out.getvalue()
    invoice = Invoice.objects.get(recurring_period__schedule=schedule)
    assert (invoice.status, invoice.issue_date, invoice.total_minor) == (
        InvoiceStatus.OPEN,
        first_day,
        120_000,
    )
    email = deliver(real_email, to=CLIENT_EMAIL)
    assert invoice.number in email["Subject"]

    # The client opens the emailed link and pays by card.
    client_context = browser.new_context()
    client_context.set_default_timeout(10_000)
    client_page = client_context.new_page()
    stand_in_for_checkout(client_page, fake_stripe)
    journey = Journey(
        base=base,
        invoice=invoice,
        portal_url=portal_link(email),
        stripe=fake_stripe,
        client_page=client_page,
        staff_page=page,
    )
    try:
        portal = journey.portal()
        assert portal.locator(".cl-amount-due").inner_text() == TOTAL
        checkout = journey.pay_now("Card")
        succeeded = journey.stripe_holds("pi_retainer", status="succeeded", method=CARD)
        journey.webhook(
            "checkout.session.completed", checkout.session("pi_retainer", payment_status="paid")
        )
        journey.webhook("payment_intent.succeeded", succeeded)

        assert_paid(journey)
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        page.goto(f"{base}/recurring/{schedule.pk}/")
        assert "Paid" in page.locator("body").inner_text()
    finally:
        client_context.close()


def test_a_new_retainer_is_set_up_from_scratch_with_the_line_editor(
    live_server: LiveServer, page: Page, staff: Membership, won_deal: Deal
) -> None:
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/recurring/")
    page.get_by_role("link", name="New retainer").click()
    page.get_by_label("Client").select_option(label="Acme Robotics (USD)")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Name").fill("Managed hosting")
    line = page.locator("[data-line]").last
    line.locator("input[name$='-description']").fill("Hosting")
    line.locator("input[name$='-quantity']").fill("2")
    line.locator("input[name$='-unit_price']").fill("90")
    page.locator("#deal-totals", has_text="$180.00").wait_for()
    page.get_by_role("button", name="Set up retainer").click()
    page.wait_for_url(re.compile(r"/recurring/\d+/$"))

    schedule = RecurringSchedule.objects.get(name="Managed hosting")
    assert schedule.client == won_deal.client
    assert [stored.description for stored in schedule.lines.all()] == ["Hosting"]
    assert "$180.00" in page.locator("body").inner_text()
