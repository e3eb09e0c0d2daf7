"""Pay now: a Stripe Checkout Session created with the real SDK against a local fake server."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from pytest_django import Settings

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.billing.services.invoices import invoice_void
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.crm.models import Client
from clientledger.payments.models import Payment, PaymentStatus, StripeAccount
from clientledger.payments.stripe.checkout import checkout_session_create
from clientledger.payments.stripe.client import STRIPE_API_VERSION, stripe_configured, stripe_keys
from tests.factories import ClientFactory
from tests.payments.conftest import OpenInvoice, issue_invoice
from tests.payments.stripe_fake import SECRET_KEY, FakeStripe, fake_stripe
from tests.payments.stripe_rows import pending_ach_payment

pytestmark = pytest.mark.django_db
__all__ = ["fake_stripe"]


@pytest.mark.parametrize(
    ("currency", "total", "minor"),
    [
        ("USD", "1234.56", "123456"),
        ("JPY", "15000", "15000"),
        # Stripe takes three-decimal amounts ending in 0: the balance is rounded up.
        ("KWD", "12.345", "12350"),
        ("KWD", "12.340", "12340"),
        # ISK and UGX have no decimals but Stripe counts them in hundredths.
        ("ISK", "15000", "1500000"),
        ("UGX", "3800", "380000"),
    ],
)
def test_the_session_asks_stripe_for_the_balance_in_stripes_unit_of_the_currency(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None, currency: str, total: str, minor: str
) -> None:
    client = ClientFactory(agency=agency, currency=currency)
    invoice = issue_invoice(client, total)

    url = checkout_session_create(invoice=invoice, token="tok")

    assert url == "https://checkout.stripe.com/c/pay/cs_test_1"
    [request] = fake_stripe.requests
    form = request["form"]
    assert form["line_items[0][price_data][unit_amount]"] == minor
    assert form["line_items[0][price_data][currency]"] == currency.lower()
    assert form["allowed_payment_method_types[0]"] == "card"
    assert form["mode"] == "payment"


def test_the_session_carries_our_ids_an_idempotency_key_and_the_portal_urls(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    checkout_session_create(invoice=invoice, token="tok")

    [request] = fake_stripe.requests
    form = request["form"]
    ids = {"invoice_id": str(invoice.pk), "agency_id": str(invoice.agency_id)}
    assert {key: form[f"metadata[{key}]"] for key in ids} == ids
    assert {key: form[f"payment_intent_data[metadata][{key}]"] for key in ids} == ids
    assert request["idempotency_key"].startswith(f"checkout-{invoice.agency_id}-{invoice.pk}-")
    assert request["authorization"] == f"Bearer {SECRET_KEY}"
    assert request["stripe_version"] == STRIPE_API_VERSION
    assert form["success_url"].endswith(reverse("portal:pay_success", args=["tok"]))
    assert form["cancel_url"].endswith(reverse("portal:pay_cancel", args=["tok"]))


def test_a_second_click_sends_the_same_idempotency_key(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    checkout_session_create(invoice=invoice, token="tok")
    checkout_session_create(invoice=invoice, token="tok")

    first, second = fake_stripe.requests
    assert first["idempotency_key"] == second["idempotency_key"]


def test_paying_from_two_links_to_the_same_invoice_opens_a_session_for_each(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    # Each email carries a new portal link; the client pays from the first, then the reminder.
    tokens = [_portal_token(invoice), _portal_token(invoice)]
    http = HttpClient()

    responses = [
        http.post(reverse("portal:pay", args=[token]), {"method": "card"}) for token in tokens
    ]

    assert [response.status_code for response in responses] == [303, 303]
    assert responses[0]["Location"] != responses[1]["Location"]
    first, second = fake_stripe.requests
    assert first["form"]["success_url"] != second["form"]["success_url"]
    assert first["idempotency_key"] != second["idempotency_key"]


def test_other_amounts_get_other_idempotency_keys(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    StripeAccount.objects.create(agency=invoice.agency, allow_partial_payments=True)
    invoice.agency.refresh_from_db()

    checkout_session_create(invoice=invoice, token="tok", amount_minor=4000)
    checkout_session_create(invoice=invoice, token="tok", amount_minor=5000)

    first, second = fake_stripe.requests
    assert first["idempotency_key"] != second["idempotency_key"]


def test_a_partial_amount_above_the_balance_is_refused_before_calling_stripe(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    with pytest.raises(ValidationError) as error:
        checkout_session_create(invoice=invoice, token="tok", amount_minor=10001)

    assert "at most $100.00" in " ".join(error.value.messages)
    assert fake_stripe.requests == []


def test_a_us_dollar_invoice_can_be_paid_by_bank_account(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    checkout_session_create(invoice=invoice, token="tok", method="us_bank_account")

    [request] = fake_stripe.requests
    assert request["form"]["allowed_payment_method_types[0]"] == "us_bank_account"
    assert "allowed_payment_method_types[1]" not in request["form"]
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "10000"


def test_card_and_bank_account_checkouts_get_different_idempotency_keys(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    checkout_session_create(invoice=invoice, token="tok", method="card")
    checkout_session_create(invoice=invoice, token="tok", method="us_bank_account")

    card, bank = fake_stripe.requests
    assert card["idempotency_key"] != bank["idempotency_key"]


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_bank_account_payment_is_refused_for_other_currencies(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None, currency: str
) -> None:
    invoice = issue_invoice(ClientFactory(agency=agency, currency=currency), "100")

    with pytest.raises(ValidationError) as error:
        checkout_session_create(invoice=invoice, token="tok", method="us_bank_account")

    assert error.value.message_dict == {
        "method": ["Payment by US bank account (ACH) is only possible in US dollars."]
    }
    assert fake_stripe.requests == []


def test_an_unknown_method_is_refused(fake_stripe: FakeStripe, open_invoice: OpenInvoice) -> None:
    with pytest.raises(ValidationError, match="Choose card or US bank account"):
        checkout_session_create(invoice=open_invoice("100.00"), token="tok", method="sepa_debit")
    assert fake_stripe.requests == []


@pytest.mark.parametrize("account", [None, False], ids=["no Stripe account row", "not allowed"])
def test_a_partial_amount_is_refused_unless_the_agency_allows_it(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice, account: bool | None
) -> None:
    invoice = open_invoice("100.00")
    if account is not None:
        StripeAccount.objects.create(agency=invoice.agency, allow_partial_payments=account)
        invoice.agency.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        checkout_session_create(invoice=invoice, token="tok", amount_minor=4000)

    assert error.value.message_dict == {
        "amount": ["This invoice cannot be paid in part: pay $100.00, the amount due."]
    }
    assert fake_stripe.requests == []


def test_a_partial_amount_is_asked_when_the_agency_allows_it(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    StripeAccount.objects.create(agency=invoice.agency, allow_partial_payments=True)
    invoice.agency.refresh_from_db()

    checkout_session_create(invoice=invoice, token="tok", amount_minor=4000, method="card")

    [request] = fake_stripe.requests
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "4000"


def test_a_part_stripe_cannot_take_exactly_is_refused_with_the_amounts_it_takes(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None
) -> None:
    invoice = issue_invoice(ClientFactory(agency=agency, currency="KWD"), "20.000")
    StripeAccount.objects.create(agency=agency, allow_partial_payments=True)
    invoice.agency.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        checkout_session_create(invoice=invoice, token="tok", amount_minor=1235)

    [message] = error.value.message_dict["amount"]
    assert "steps of KWD" in message
    assert "1.230" in message and "1.240" in message
    assert fake_stripe.requests == []


@pytest.mark.parametrize("amount_minor", [0, -100])
def test_zero_and_negative_amounts_are_refused(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice, amount_minor: int
) -> None:
    with pytest.raises(ValidationError, match="greater than zero and at most"):
        checkout_session_create(
            invoice=open_invoice("100.00"), token="tok", amount_minor=amount_minor
        )
    assert fake_stripe.requests == []


def test_a_processing_bank_payment_is_not_asked_for_again(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pending_ach_payment(invoice, 4000)

    checkout_session_create(invoice=invoice, token="tok")

    [request] = fake_stripe.requests
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "6000"


def test_the_balance_is_refused_while_part_of_it_is_processing(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pending_ach_payment(invoice, 4000)

    with pytest.raises(ValidationError, match=r"at most \$60\.00"):
        checkout_session_create(invoice=invoice, token="tok", amount_minor=10000)
    assert fake_stripe.requests == []


def test_nothing_is_payable_while_a_bank_payment_of_the_balance_is_processing(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pending_ach_payment(invoice, 10000)

    with pytest.raises(ValidationError) as error:
        checkout_session_create(invoice=invoice, token="tok", method="card")

    assert error.value.message_dict == {
        "invoice": ["A bank payment of $100.00 is already processing for this invoice."]
    }
    assert fake_stripe.requests == []


def test_a_void_invoice_cannot_be_paid_online(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = invoice_void(invoice=open_invoice("100.00"), actor=None, reason="Sent twice")

    with pytest.raises(ValidationError, match="nothing left to pay"):
        checkout_session_create(invoice=invoice, token="tok")
    assert fake_stripe.requests == []


def test_an_agency_key_takes_precedence_over_the_environment(
    fake_stripe: FakeStripe, agency: Agency
) -> None:
    StripeAccount.objects.create(agency=agency, secret_key="sk_live_own")
    agency.refresh_from_db()

    keys = stripe_keys(agency)

    assert keys.secret_key == "sk_live_own"
    assert keys.publishable_key == "pk_test_fake"
    assert not keys.is_test_mode


def test_without_keys_stripe_is_not_configured(agency: Agency, settings: Settings) -> None:
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""

    assert not stripe_configured(agency)


def _portal_token(invoice: Invoice) -> str:
    return portal_link_create(document=invoice, actor=None)[1]


def test_the_portal_pay_button_redirects_to_the_checkout_page(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    token = _portal_token(open_invoice("100.00"))
    http = HttpClient()

    page = http.get(reverse("portal:document", args=[token]))
    response = http.post(reverse("portal:pay", args=[token]), {"method": "card"})

    assert b"Pay now" in page.content
    assert response.status_code == 303
    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_1"


def test_without_stripe_the_portal_shows_no_pay_button_and_refuses_to_pay(
    open_invoice: OpenInvoice,
) -> None:
    token = _portal_token(open_invoice("100.00"))
    http = HttpClient()

    page = http.get(reverse("portal:document", args=[token]))
    response = http.post(reverse("portal:pay", args=[token]), {"method": "card"})

    assert b"Pay now" not in page.content
    assert response.status_code == 400
    assert b"Online payment is not available" in response.content


def test_the_success_and_cancel_pages_name_the_invoice(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    token = _portal_token(invoice)
    http = HttpClient()

    success = http.get(reverse("portal:pay_success", args=[token]))
    cancel = http.get(reverse("portal:pay_cancel", args=[token]))

    assert success.status_code == cancel.status_code == 200
    assert b"Thank you for your payment" in success.content
    assert b"Nothing was charged" in cancel.content
    assert str(invoice.number).encode() in cancel.content


@pytest.mark.parametrize(
    ("secret_key", "test_mode"),
    [("sk_test_1", True), ("rk_test_1", True), ("sk_live_1", False), ("rk_live_1", False)],
)
def test_restricted_keys_tell_test_mode_like_secret_keys(
    agency: Agency, secret_key: str, test_mode: bool
) -> None:
    StripeAccount.objects.create(agency=agency, secret_key=secret_key)
    agency.refresh_from_db()

    assert stripe_keys(agency).is_test_mode is test_mode


def test_paying_again_after_a_failed_bank_payment_starts_a_fresh_session(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    checkout_session_create(invoice=invoice, token="tok", method="us_bank_account")
    failed = pending_ach_payment(invoice, 10000)
    Payment.objects.filter(pk=failed.pk).update(status=PaymentStatus.FAILED)

    checkout_session_create(invoice=invoice, token="tok", method="us_bank_account")

    first, retry = fake_stripe.requests
    assert first["form"] == retry["form"]
    assert first["idempotency_key"] != retry["idempotency_key"]
