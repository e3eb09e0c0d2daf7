"""The Stripe settings page: keys saved but never shown back, validation, the webhook set-up
to copy into Stripe, and the test-mode badge on staff pages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.core.models import AuditEvent
from clientledger.payments.models import StripeAccount
from clientledger.payments.stripe.account import KeySource, stripe_account_update, stripe_setup
from clientledger.payments.stripe.inbox import STRIPE_WEBHOOK_EVENTS

pytestmark = pytest.mark.django_db
Login = Callable[[Membership], HttpClient]

SECRET = "sk_test_51SecretNeverShown"
WEBHOOK = "whsec_NeverShownEither"
PUBLISHABLE = "pk_test_51Publishable"
URL = reverse("payments:stripe_settings")


@pytest.fixture(autouse=True)
def no_stripe_environment(settings: Settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.SITE_URL = "https://ledger.example"


def form_data(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "secret_key": SECRET,
        "publishable_key": PUBLISHABLE,
        "webhook_secret": WEBHOOK,
        "allow_partial_payments": "on",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def saved_account(agency: Agency, **fields: Any) -> StripeAccount:
    values = {
        "secret_key": SECRET,
        "publishable_key": PUBLISHABLE,
        "webhook_secret": WEBHOOK,
        **fields,
    }
    return StripeAccount.objects.create(agency=agency, **values)


def status_of(html: str, field: str) -> str:
    """The key status shown next to a field, e.g. "Saved"."""
    shown = re.search(f'data-testid="{field}-status"><span[^>]*>([^<]+)</span>', html)
    assert shown is not None, f"no status next to {field}"
    return shown.group(1)


# --- the page ------------------------------------------------------------------------------


def test_without_any_key_the_page_says_stripe_is_not_configured(owner_client: HttpClient) -> None:
    html = owner_client.get(URL).content.decode()

    assert "Stripe is not configured: the portal shows bank-transfer instructions only" in html
    for field in ("secret_key", "publishable_key", "webhook_secret"):
        assert status_of(html, field) == "Not set"


def test_the_page_shows_the_webhook_url_and_every_event_type_to_subscribe_to(
    owner_client: HttpClient,
) -> None:
    html = owner_client.get(URL).content.decode()

    assert "https://ledger.example/webhooks/stripe" in html
    for event_type in STRIPE_WEBHOOK_EVENTS:
        assert f"<li>{event_type}</li>" in html
    assert "<li>charge.refund.updated</li>" in html
    assert len(STRIPE_WEBHOOK_EVENTS) == 13


def test_saving_the_keys_stores_them_and_shows_only_that_they_are_saved(
    owner_client: HttpClient, agency: Agency
) -> None:
    response = owner_client.post(URL, form_data(), follow=True)

    account = StripeAccount.objects.get(agency=agency)
    assert (account.secret_key, account.publishable_key, account.webhook_secret) == (
        SECRET,
        PUBLISHABLE,
        WEBHOOK,
    )
    assert account.allow_partial_payments
    html = response.content.decode()
    assert "Stripe settings saved." in html
    assert SECRET not in html and WEBHOOK not in html
    assert status_of(html, "secret_key") == "Saved"
    assert status_of(html, "webhook_secret") == "Saved"
    assert f'value="{PUBLISHABLE}"' in html
    assert "Stripe is not configured" not in html


def test_a_secret_typed_with_an_error_elsewhere_is_not_sent_back_in_the_page(
    owner_client: HttpClient, agency: Agency
) -> None:
    response = owner_client.post(URL, form_data(publishable_key="pk_wrong"))

    assert response.status_code == 400
    html = response.content.decode()
    assert SECRET not in html and WEBHOOK not in html
    assert not StripeAccount.objects.filter(agency=agency).exists()


def test_leaving_the_secrets_empty_keeps_the_saved_ones(
    owner_client: HttpClient, agency: Agency
) -> None:
    saved_account(agency)

    owner_client.post(URL, form_data(secret_key="", webhook_secret="", allow_partial_payments=None))

    account = StripeAccount.objects.get(agency=agency)
    assert (account.secret_key, account.webhook_secret) == (SECRET, WEBHOOK)
    assert not account.allow_partial_payments


def test_remove_clears_a_saved_secret_and_the_environment_applies_again(
    owner_client: HttpClient, agency: Agency, settings: Settings
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = "whsec_from_environment"
    saved_account(agency)

    response = owner_client.post(
        URL,
        form_data(secret_key="", webhook_secret="", remove_webhook_secret="on"),
        follow=True,
    )

    account = StripeAccount.objects.get(agency=agency)
    assert account.webhook_secret == "" and account.secret_key == SECRET
    html = response.content.decode()
    assert status_of(html, "webhook_secret") == "From the environment"
    assert "whsec_from_environment" not in html


def test_a_new_secret_and_remove_at_once_is_refused(
    owner_client: HttpClient, agency: Agency
) -> None:
    saved_account(agency)

    response = owner_client.post(URL, form_data(secret_key="sk_test_other", remove_secret_key="on"))

    assert response.status_code == 400
    assert "Either enter a new one or remove the saved one, not both." in response.content.decode()
    assert StripeAccount.objects.get(agency=agency).secret_key == SECRET


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "secret_key",
            "pk_test_123",
            "A secret key starts with sk_test_ or rk_test_ or sk_live_ or rk_live_.",
        ),
        ("publishable_key", "sk_test_123", "A publishable key starts with pk_test_ or pk_live_."),
        ("webhook_secret", "sk_test_123", "A webhook signing secret starts with whsec_."),
    ],
)
def test_a_key_of_the_wrong_kind_is_refused_with_what_it_should_start_with(
    owner_client: HttpClient, agency: Agency, field: str, value: str, message: str
) -> None:
    response = owner_client.post(URL, form_data(**{field: value}))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StripeAccount.objects.filter(agency=agency).exists()


def test_test_and_live_keys_cannot_be_mixed(owner_client: HttpClient, agency: Agency) -> None:
    saved_account(agency)

    response = owner_client.post(URL, form_data(secret_key="", publishable_key="pk_live_123"))

    assert response.status_code == 400
    assert (
        "The secret key is a test key and the publishable key a live key"
        in response.content.decode()
    )
    assert StripeAccount.objects.get(agency=agency).publishable_key == PUBLISHABLE


def test_restricted_live_keys_go_with_live_publishable_keys(agency: Agency) -> None:
    account = stripe_account_update(
        agency=agency,
        actor=None,
        secret_key="rk_live_123",
        publishable_key="pk_live_123",
        webhook_secret=None,
        allow_partial_payments=False,
    )

    assert account.secret_key == "rk_live_123"


def test_an_admin_may_change_the_stripe_settings_and_finance_may_not(
    admin: Membership, finance: Membership, login: Login
) -> None:
    assert login(admin).get(URL).status_code == 200
    assert login(finance).get(URL).status_code == 403


# --- the audit trail -----------------------------------------------------------------------


def test_the_audit_entry_names_the_changed_fields_and_never_their_values(
    owner_client: HttpClient, owner: Membership, agency: Agency
) -> None:
    saved_account(agency)

    owner_client.post(URL, form_data(secret_key="sk_test_Rotated", webhook_secret=""))

    event = AuditEvent.objects.get(verb="stripe.settings_updated")
    assert event.actor == owner.user
    assert event.data == {"fields": ["secret_key", "allow_partial_payments"]}
    assert "sk_test_" not in json.dumps(event.data) + event.subject_repr


def test_saving_nothing_new_writes_no_audit_entry(agency: Agency) -> None:
    saved_account(agency, allow_partial_payments=True)

    stripe_account_update(
        agency=agency,
        actor=None,
        secret_key=None,
        publishable_key=PUBLISHABLE,
        webhook_secret=None,
        allow_partial_payments=True,
    )

    assert not AuditEvent.objects.filter(verb="stripe.settings_updated").exists()


# --- where the keys come from --------------------------------------------------------------


def test_the_setup_tells_saved_keys_from_the_environments_and_missing_ones(
    agency: Agency, settings: Settings
) -> None:
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_env"
    saved_account(agency, publishable_key="", webhook_secret="")

    setup = stripe_setup(Agency.objects.get(pk=agency.pk))

    assert (setup.secret_key, setup.publishable_key, setup.webhook_secret) == (
        KeySource.SAVED,
        KeySource.ENVIRONMENT,
        KeySource.NOT_SET,
    )
    assert not setup.configured
    assert setup.test_mode


# --- the test-mode badge -------------------------------------------------------------------

BADGE = "Stripe test mode"


def test_staff_pages_show_the_test_mode_badge_with_test_keys(
    owner_client: HttpClient, settings: Settings
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_env"

    assert BADGE in owner_client.get(reverse("home")).content.decode()
    assert BADGE in owner_client.get(reverse("payments:payment_list")).content.decode()


def test_live_keys_show_no_badge(owner_client: HttpClient, agency: Agency) -> None:
    saved_account(agency, secret_key="sk_live_1", publishable_key="pk_live_1")

    assert BADGE not in owner_client.get(reverse("home")).content.decode()
    assert BADGE not in owner_client.get(URL).content.decode()


def test_the_settings_page_shows_the_badge_with_the_agencys_own_test_keys(
    owner_client: HttpClient, agency: Agency
) -> None:
    saved_account(agency)

    html = owner_client.get(URL).content.decode()

    assert html.count(BADGE) == 2  # the header's and the page title's


def dashboard_queries(http: HttpClient) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert http.get(reverse("home")).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_badge_costs_at_most_one_query_with_or_without_a_stripe_account(
    owner_client: HttpClient, agency: Agency
) -> None:
    without_account = dashboard_queries(owner_client)
    saved_account(agency)
    with_account = dashboard_queries(owner_client)

    assert len(with_account) == len(without_account)
    assert sum("payments_stripeaccount" in sql for sql in with_account) == 1


def test_owners_find_the_stripe_settings_in_the_menu_and_on_the_agency_settings_page(
    owner_client: HttpClient,
) -> None:
    stripe_settings = reverse("payments:stripe_settings")

    for page in (reverse("crm:client_list"), reverse("accounts:agency_settings")):
        assert f'href="{stripe_settings}"' in owner_client.get(page).content.decode()
