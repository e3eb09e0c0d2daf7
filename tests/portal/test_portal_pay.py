"""Pay now in the portal: card or US bank account, the whole amount or part of it, and what
the client sees of the payments made and still processing."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.payments.models import PaymentMethod, StripeAccount
from clientledger.payments.services.manual import payment_record_manual
from tests.factories import AgencyFactory, ClientFactory
from tests.payments.conftest import TODAY, issue_invoice
from tests.payments.stripe_fake import FakeStripe, fake_stripe
from tests.payments.stripe_rows import pending_ach_payment

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as ClientResponse

pytestmark = pytest.mark.django_db
__all__ = ["fake_stripe"]

PENDING_NOTICE = "is processing; this usually takes up to 4 business days"


def invoice_in(currency: str = "USD", total: str = "100.00", **agency: object) -> Invoice:
    client = ClientFactory(agency=AgencyFactory(**agency), currency=currency)
    return issue_invoice(client, total)


def token_of(invoice: Invoice) -> str:
    return portal_link_create(document=invoice, actor=None)[1]


def page(invoice: Invoice) -> str:
    response = HttpClient().get(reverse("portal:document", args=[token_of(invoice)]))
    assert response.status_code == 200
    return response.content.decode()


def pay(invoice: Invoice, **data: str) -> ClientResponse:
    return HttpClient().post(reverse("portal:pay", args=[token_of(invoice)]), data)


def allow_partial_payments(agency: Agency) -> None:
    StripeAccount.objects.create(agency=agency, allow_partial_payments=True)


def paid_by_transfer(invoice: Invoice, amount: str) -> None:
    payment_record_manual(
        agency=invoice.agency,
        actor=None,
        client=invoice.client,
        amount=Decimal(amount),
        currency=invoice.currency,
        received_on=TODAY,
        method=PaymentMethod.BANK_TRANSFER,
        allocations=[(invoice, Decimal(amount))],
    )


# --- choosing how to pay -------------------------------------------------------------------


def test_a_us_dollar_invoice_offers_card_and_bank_account(fake_stripe: FakeStripe) -> None:
    html = page(invoice_in("USD"))

    assert "Pay now" in html
    assert 'value="card"' in html and "Card" in html
    assert 'value="us_bank_account"' in html and "US bank account (ACH)" in html
    assert 'name="amount"' not in html


def test_an_invoice_in_another_currency_offers_card_only(fake_stripe: FakeStripe) -> None:
    html = page(invoice_in("EUR"))

    assert "Pay now by card" in html
    assert "US bank account" not in html


def test_choosing_the_bank_account_opens_a_bank_account_checkout(fake_stripe: FakeStripe) -> None:
    response = pay(invoice_in("USD"), method="us_bank_account")

    assert response.status_code == 303
    [request] = fake_stripe.requests
    assert request["form"]["allowed_payment_method_types[0]"] == "us_bank_account"
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "10000"


def test_a_bank_account_posted_for_a_euro_invoice_is_refused(fake_stripe: FakeStripe) -> None:
    response = pay(invoice_in("EUR"), method="us_bank_account")

    assert response.status_code == 400
    assert "Choose one of the ways to pay shown." in response.content.decode()
    assert fake_stripe.requests == []


def test_an_amount_posted_without_partial_payments_allowed_is_ignored(
    fake_stripe: FakeStripe,
) -> None:
    response = pay(invoice_in("USD"), method="card", amount="1.00")

    assert response.status_code == 303
    [request] = fake_stripe.requests
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "10000"


# --- partial payments ----------------------------------------------------------------------


def test_with_partial_payments_the_amount_is_prefilled_with_what_is_payable(
    fake_stripe: FakeStripe,
) -> None:
    invoice = invoice_in("USD", "100.00")
    allow_partial_payments(invoice.agency)
    pending_ach_payment(invoice, 2500)

    html = page(invoice)

    assert 'name="amount" value="75.00"' in html


def test_a_partial_amount_goes_to_the_checkout(fake_stripe: FakeStripe) -> None:
    invoice = invoice_in("USD", "100.00")
    allow_partial_payments(invoice.agency)

    response = pay(invoice, method="card", amount="40.00")

    assert response.status_code == 303
    [request] = fake_stripe.requests
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "4000"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter the amount to pay."),
        ("forty", "Enter a number."),
        ("0", "Pay an amount greater than zero and at most $100.00."),
        ("-5", "Pay an amount greater than zero and at most $100.00."),
        ("100.01", "Pay an amount greater than zero and at most $100.00."),
        ("10.005", "USD amounts have at most 2 decimal places."),
    ],
)
def test_a_bad_amount_shows_the_page_again_with_the_reason_and_asks_stripe_nothing(
    fake_stripe: FakeStripe, amount: str, message: str
) -> None:
    invoice = invoice_in("USD", "100.00")
    allow_partial_payments(invoice.agency)

    response = pay(invoice, method="card", amount=amount)

    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert str(invoice.number) in html
    assert fake_stripe.requests == []


def test_a_yen_amount_with_decimals_is_refused(fake_stripe: FakeStripe) -> None:
    invoice = invoice_in("JPY", "15000")
    allow_partial_payments(invoice.agency)

    response = pay(invoice, method="card", amount="100.5")

    assert response.status_code == 400
    assert "JPY amounts have no decimal places." in response.content.decode()


# --- payments made and processing ----------------------------------------------------------


def test_the_page_lists_the_payments_received_and_the_balance(fake_stripe: FakeStripe) -> None:
    invoice = invoice_in("USD", "100.00")
    paid_by_transfer(invoice, "30.00")
    pending_ach_payment(invoice, 2000)

    html = page(invoice)

    assert "Payments received" in html
    assert "24 November 2026 · Bank transfer" in html
    assert "$30.00 paid so far of $100.00" in html
    assert "Balance due" in html and "$70.00" in html
    # The processing bank payment is not received yet.
    assert "US bank account (ACH)</td>" not in html


def test_a_processing_bank_payment_shows_as_pending_and_leaves_the_rest_payable(
    fake_stripe: FakeStripe,
) -> None:
    invoice = invoice_in("USD", "100.00")
    pending_ach_payment(invoice, 4000)

    html = page(invoice)

    assert "Payment pending" in html
    assert f"Your bank payment of $40.00 {PENDING_NOTICE}." in html
    assert "You will pay $60.00 securely" in html


def test_a_bank_payment_of_the_whole_balance_hides_pay_now(fake_stripe: FakeStripe) -> None:
    invoice = invoice_in("USD", "100.00")
    pending_ach_payment(invoice, 10000)

    html = page(invoice)

    assert f"Your bank payment of $100.00 {PENDING_NOTICE}." in html
    assert "Pay now" not in html


def test_paying_while_the_whole_balance_is_processing_is_refused(fake_stripe: FakeStripe) -> None:
    invoice = invoice_in("USD", "100.00")
    pending_ach_payment(invoice, 10000)

    response = pay(invoice, method="card")

    assert response.status_code == 400
    assert (
        "A bank payment of $100.00 is already processing for this invoice."
        in response.content.decode()
    )
    assert fake_stripe.requests == []


def test_without_stripe_the_page_shows_bank_transfer_instructions_only() -> None:
    invoice = invoice_in("USD", "100.00", payment_instructions="IBAN DE89 3704 0044")
    token = token_of(invoice)

    html = HttpClient().get(reverse("portal:document", args=[token])).content.decode()

    assert "IBAN DE89 3704 0044" in html
    assert "Pay now" not in html
    assert reverse("portal:pay", args=[token]) not in html


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "sNaN", "1e999999", "9" * 5000, "1_000"])
def test_an_amount_to_pay_must_be_a_plain_number(fake_stripe: FakeStripe, amount: str) -> None:
    invoice = invoice_in("USD", "100.00")
    allow_partial_payments(invoice.agency)

    response = pay(invoice, method="card", amount=amount)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["amount"]
    assert fake_stripe.requests == []
