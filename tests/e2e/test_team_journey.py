"""An owner invites a finance colleague; the emailed link lets them join and sign in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.core import clock
from clientledger.jobs.sweeps import SWEEPS
from tests.factories import PASSWORD, AgencyFactory, MembershipFactory

drain_outbox = SWEEPS["drain_outbox"]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner_member(db: None) -> Membership:
    agency = AgencyFactory(name="Northwind Studio")
    return MembershipFactory(agency=agency, role=Role.OWNER, user__email="olivia@northwind.example")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_an_invited_colleague_joins_through_the_emailed_link(
    live_server: LiveServer,
    page: Page,
    browser: Browser,
    owner_member: Membership,
    settings: Settings,
) -> None:
    settings.SITE_URL = live_server.url
    base = live_server.url
    sign_in(page, base, "olivia@northwind.example", PASSWORD)
    page.goto(f"{base}/accounts/team/")
    invite = page.locator("#invite")
    invite.get_by_label("Email address").fill("frank@northwind.example")
    invite.get_by_label("Role").select_option("finance")
    invite.get_by_role("button", name="Send invitation").click()
    page.get_by_text("frank@northwind.example").first.wait_for()

    assert drain_outbox(as_of=clock.now()) == {"sent": 1}
    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/invite/\S+/", str(message.body))
    assert link, message.body

    newcomer = browser.new_context().new_page()
    newcomer.goto(link.group(0))
    newcomer.get_by_label("Your name").fill("Frank Finance")
    newcomer.get_by_label("Password", exact=True).fill("ledgers-are-lovely-42")
    newcomer.get_by_label("Confirm password").fill("ledgers-are-lovely-42")
    newcomer.get_by_role("button", name="Create my account").click()
    newcomer.wait_for_url(f"{base}/")
    assert "Finance" in newcomer.locator("header").inner_text()

    member = Membership.objects.get(user__email="frank@northwind.example")
    assert (member.agency_id, member.role) == (owner_member.agency_id, Role.FINANCE)
    newcomer.goto(link.group(0))
    assert "no longer valid" in newcomer.locator("body").inner_text()
