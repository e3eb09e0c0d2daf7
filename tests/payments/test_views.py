"""The staff payment pages: recording a payment with its allocations, refunds, applying
client credit, the payment cards of the invoice and client pages, roles and the list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.crm.models import Client
from clientledger.payments.models import Payment, PaymentStatus, Refund
from clientledger.payments.selectors import client_credit_balance
from clientledger.payments.services.manual import payment_record_manual
from tests.factories import ClientFactory
from tests.payments.conftest import TODAY, OpenInvoice
from tests.payments.stripe_fake import FakeStripe, deliver
from tests.payments.stripe_rows import pending_ach_payment

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]
CREATE = reverse("payments:payment_create")


def form_data(invoice: Invoice, amount: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "invoice": invoice.pk,
        "amount": amount,
        "received_on": TODAY.isoformat(),
        "method": "bank_transfer",
        "reference": "TRX-1",
        "notes": "",
        "idempotency_key": fields.pop("key", "key-1"),
        **fields,
    }


def state(invoice: Invoice) -> tuple[str, int]:
    invoice.refresh_from_db()
    return invoice.status, invoice.balance_due_minor


def recorded(client: Client, amount: str) -> Payment:
    return payment_record_manual(
        agency=client.agency,
        actor=None,
        client=client,
        amount=Decimal(amount),
        currency=client.currency,
        received_on=TODAY,
        method="check",
    )


def test_the_record_page_prefills_the_invoice_balance_and_an_idempotency_key(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    older, invoice = open_invoice("40.00", due_in_days=5), open_invoice("100.00")
    response = login(owner).get(CREATE, {"invoice": invoice.pk})
    form = response.context["form"]
    assert response.status_code == 200
    assert form["amount"].value() == Decimal("100.00")
    assert form[f"allocate_{invoice.pk}"].value() == Decimal("100.00")
    assert form[f"allocate_{older.pk}"].value() is None
    assert len(form["idempotency_key"].value()) == 32
    assert "Unallocated (becomes client credit)" in response.content.decode()


def test_a_full_payment_through_the_form_makes_the_invoice_paid(
    finance: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    data = form_data(invoice, "100.00", **{f"allocate_{invoice.pk}": "100.00"})
    response = login(finance).post(CREATE, data)
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:payment_detail", args=[payment.pk])
    assert state(invoice) == (InvoiceStatus.PAID, 0)
    assert payment.created_by == finance.user and payment.reference == "TRX-1"


def test_a_partial_payment_leaves_the_invoice_open_with_its_balance(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    login(owner).post(CREATE, form_data(invoice, "30.00", **{f"allocate_{invoice.pk}": "30.00"}))
    assert state(invoice) == (InvoiceStatus.OPEN, 7000)
    page = login(owner).get(reverse("payments:invoice_payments", args=[invoice.pk]))
    assert "$30.00" in page.content.decode() and "Record payment" in page.content.decode()


def test_an_overpayment_becomes_client_credit_shown_on_the_client_page(
    owner: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    invoice = open_invoice("100.00")
    login(owner).post(CREATE, form_data(invoice, "150.00", **{f"allocate_{invoice.pk}": "100.00"}))
    assert state(invoice) == (InvoiceStatus.PAID, 0)
    assert client_credit_balance(agency=payer.agency, client=payer) == Decimal("50.00")
    card = login(owner).get(reverse("payments:client_payments", args=[payer.pk]))
    assert card.context["credit_minor"] == 5000
    assert "$50.00" in card.content.decode()


def test_an_allocation_above_the_balance_shows_the_error_and_saves_nothing(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    data = form_data(invoice, "120.00", **{f"allocate_{invoice.pk}": "120.00"})
    response = login(owner).post(CREATE, data)
    assert response.status_code == 200
    assert "has only $100.00 left to pay" in response.content.decode()
    assert not Payment.objects.exists()
    assert state(invoice) == (InvoiceStatus.OPEN, 10000)


def test_allocations_above_the_payment_are_refused(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    first, second = open_invoice("50.00", due_in_days=5), open_invoice("50.00")
    data = form_data(
        first, "60.00", **{f"allocate_{first.pk}": "50.00", f"allocate_{second.pk}": "20.00"}
    )
    response = login(owner).post(CREATE, data)
    assert "more than the payment" in response.content.decode()
    assert not Payment.objects.exists()


def test_submitting_the_same_form_twice_records_one_payment(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    data = form_data(invoice, "40.00", **{f"allocate_{invoice.pk}": "40.00"})
    http = login(owner)
    first, second = http.post(CREATE, data), http.post(CREATE, data)
    assert Payment.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert state(invoice) == (InvoiceStatus.OPEN, 6000)


def test_the_refund_form_records_a_refund_and_reopens_the_invoice(
    owner: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    invoice = open_invoice("100.00")
    payment = recorded(payer, "100.00")
    url = reverse("payments:payment_refund", args=[payment.pk])
    response = login(owner).post(url, {"amount": "25.00", "reason": "Duplicate charge"})
    payment.refresh_from_db()
    assert response.status_code == 302
    assert Refund.objects.get().amount_minor == 2500
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert state(invoice) == (InvoiceStatus.OPEN, 2500)


def test_a_refund_above_the_refundable_amount_is_shown_and_saves_nothing(
    owner: Membership, login: Login, payer: Client
) -> None:
    payment = recorded(payer, "10.00")
    url = reverse("payments:payment_refund", args=[payment.pk])
    response = login(owner).post(url, {"amount": "11.00", "reason": "Too much"})
    assert response.status_code == 200
    assert "At most $10.00 can be refunded." in response.content.decode()
    assert not Refund.objects.exists()


def test_the_payment_page_shows_allocations_and_remaining_credit(
    viewer: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    invoice = open_invoice("80.00")
    payment = recorded(payer, "100.00")
    response = login(viewer).get(reverse("payments:payment_detail", args=[payment.pk]))
    html = response.content.decode()
    assert response.context["credit_minor"] == 2000
    assert reverse("billing:invoice_detail", args=[invoice.pk]) in html
    assert "Record refund" not in html


def test_the_credit_form_on_the_invoice_applies_the_clients_credit(
    owner: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    recorded(payer, "30.00")
    invoice = open_invoice("100.00")
    http = login(owner)
    card = http.get(reverse("payments:invoice_payments", args=[invoice.pk]))
    assert card.context["credit_form"]["amount"].value() == Decimal("30.00")
    url = reverse("payments:credit_apply", args=[invoice.pk])
    response = http.post(url, {"amount": "30.00"})
    assert response["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert state(invoice) == (InvoiceStatus.OPEN, 7000)
    assert client_credit_balance(agency=payer.agency, client=payer) == Decimal(0)


def test_applying_more_credit_than_the_client_has_changes_nothing(
    owner: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    recorded(payer, "10.00")
    invoice = open_invoice("100.00")
    response = login(owner).post(
        reverse("payments:credit_apply", args=[invoice.pk]), {"amount": "20.00"}, follow=True
    )
    assert "The client has only $10.00 of credit." in response.content.decode()
    assert state(invoice) == (InvoiceStatus.OPEN, 10000)


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_viewers_and_sales_cannot_record_refund_or_apply_credit(
    role: str,
    request: pytest.FixtureRequest,
    login: Login,
    open_invoice: OpenInvoice,
    payer: Client,
) -> None:
    invoice = open_invoice("100.00")
    payment = recorded(payer, "120.00")
    http = login(request.getfixturevalue(role))
    assert http.post(CREATE, form_data(invoice, "5.00", key="k2")).status_code == 403
    refund_url = reverse("payments:payment_refund", args=[payment.pk])
    assert http.post(refund_url, {"amount": "1", "reason": "x"}).status_code == 403
    credit_url = reverse("payments:credit_apply", args=[invoice.pk])
    assert http.post(credit_url, {"amount": "1"}).status_code == 403
    assert Payment.objects.count() == 1 and not Refund.objects.exists()


def test_another_agencys_payment_invoice_and_client_are_404(
    outsider: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    invoice = open_invoice("100.00")
    payment = recorded(payer, "10.00")
    http = login(outsider)
    assert http.get(reverse("payments:payment_detail", args=[payment.pk])).status_code == 404
    assert http.get(CREATE, {"invoice": invoice.pk}).status_code == 404
    assert http.get(CREATE, {"client": payer.pk}).status_code == 404
    assert http.post(CREATE, form_data(invoice, "5.00")).status_code == 404
    assert http.get(reverse("payments:payment_list"), {"client": payer.pk}).status_code == 404
    assert not Payment.objects.filter(client=payer).exclude(pk=payment.pk).exists()


def _bulk_payments(client: Client, count: int) -> None:
    Payment.objects.bulk_create(
        Payment(
            agency=client.agency,
            client=client,
            method="cash",
            status=PaymentStatus.SUCCEEDED,
            amount_minor=100 + n,
            currency=client.currency,
            received_on=TODAY - dt.timedelta(days=n % 90),
        )
        for n in range(count)
    )


def _list_queries(http: HttpClient, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(reverse("payments:payment_list"), params)
    assert response.status_code == 200
    return len(queries)


def test_the_payment_list_runs_the_same_queries_for_10_or_500_payments(
    owner: Membership, login: Login, payer: Client
) -> None:
    http = login(owner)
    _bulk_payments(payer, 10)
    few = _list_queries(http, {"client": payer.pk})
    _bulk_payments(payer, 490)
    many = _list_queries(http, {"client": payer.pk})
    assert few == many
    page = http.get(reverse("payments:payment_list")).context["page"]
    second = http.get(reverse("payments:payment_list"), {"after": page.next_cursor})
    assert len(page) == 25 and not {p.pk for p in page} & {p.pk for p in second.context["page"]}


def test_the_payment_list_searches_references(
    owner: Membership, login: Login, payer: Client
) -> None:
    recorded(payer, "10.00")
    Payment.objects.update(reference="WIRE-778")
    recorded(payer, "20.00")
    response = login(owner).get(reverse("payments:payment_list"), {"q": "wire-7"})
    assert [p.reference for p in response.context["page"]] == ["WIRE-778"]


def test_the_invoice_and_client_pages_load_their_payment_cards(
    owner: Membership, login: Login, open_invoice: OpenInvoice, payer: Client
) -> None:
    invoice = open_invoice("100.00")
    http = login(owner)
    invoice_page = http.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    client_page = http.get(reverse("crm:client_detail", args=[payer.pk])).content.decode()
    assert reverse("payments:invoice_payments", args=[invoice.pk]) in invoice_page
    assert reverse("payments:client_payments", args=[payer.pk]) in client_page


def test_a_stripe_payment_page_shows_fee_net_disputes_and_refunds_through_stripe(
    finance: Membership, login: Login, fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    intent = fake_stripe.intent("pi_card", invoice=invoice, status="succeeded", fee=320)
    fake_stripe.dispute("pi_card", status="needs_response", reason="fraudulent")
    assert deliver(fake_stripe.event("payment_intent.succeeded", intent)) == 200
    payment = Payment.objects.get()

    html = (
        login(finance).get(reverse("payments:payment_detail", args=[payment.pk])).content.decode()
    )

    assert "Stripe fee" in html and "$3.20" in html and "$96.80" in html
    assert "Disputes" in html and "Needs response" in html and "fraudulent" in html
    assert "Refund through Stripe" in html
    assert "Record refund" not in html


def test_a_pending_bank_payment_page_says_so_and_offers_no_refund_or_credit(
    finance: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    payment = pending_ach_payment(open_invoice("100.00"), 10000)

    html = (
        login(finance).get(reverse("payments:payment_detail", args=[payment.pk])).content.decode()
    )

    assert "Payment pending: the client's bank debit is processing" in html
    assert "Refund through Stripe" not in html
    assert 'Remaining credit</div><div class="datagrid-content">$0.00' in html


def test_every_staff_page_links_the_payment_list_in_the_main_navigation(
    viewer: Membership, login: Login
) -> None:
    html = login(viewer).get(reverse("crm:client_list")).content.decode()

    assert f'<a class="nav-link" href="{reverse("payments:payment_list")}">Payments</a>' in html


NOT_PLAIN_NUMBERS = [
    "NaN",
    "Infinity",
    "sNaN",
    "1e999999",
    "9" * 5000,
    "1_000",
    "\u0661\u0660\u0660",
    "\uff11\uff10\uff10",
]


@pytest.mark.parametrize("text", NOT_PLAIN_NUMBERS)
@pytest.mark.parametrize("where", ["amount", "allocation"])
def test_an_amount_that_is_not_a_plain_number_is_a_field_error_on_the_payment_form(
    owner: Membership, login: Login, open_invoice: OpenInvoice, text: str, where: str
) -> None:
    invoice = open_invoice("100.00")
    allocation = f"allocate_{invoice.pk}"
    amounts = {"amount": text, allocation: "100.00"}
    if where == "allocation":
        amounts = {"amount": "100.00", allocation: text}
    response = login(owner).post(CREATE, form_data(invoice, **amounts))
    assert response.status_code == 200
    field = "amount" if where == "amount" else allocation
    assert list(response.context["form"].errors) == [field]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["1,234.50", "1234.50", " 1,234.5 "])
def test_a_payment_amount_may_group_thousands_with_commas(
    owner: Membership, login: Login, open_invoice: OpenInvoice, amount: str
) -> None:
    invoice = open_invoice("2000.00")
    response = login(owner).post(
        CREATE, form_data(invoice, amount, **{f"allocate_{invoice.pk}": amount})
    )
    assert response.status_code == 302
    assert Payment.objects.get().amount_minor == 123450


@pytest.mark.parametrize("amount", ["1.234,50", "12,5", "1,23"])
def test_a_decimal_comma_is_refused_with_a_hint(
    owner: Membership, login: Login, open_invoice: OpenInvoice, amount: str
) -> None:
    invoice = open_invoice("2000.00")
    response = login(owner).post(CREATE, form_data(invoice, amount))
    [message] = response.context["form"].errors["amount"]
    assert "Write decimals with a point (1234.50)" in message
    assert not Payment.objects.exists()


def test_a_received_date_outside_the_date_window_is_refused_inline(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    response = login(owner).post(CREATE, form_data(invoice, "100.00", received_on="1999-12-31"))
    assert response.context["form"].errors == {"received_on": ["Enter a date from 2000 to 2036."]}
    assert not Payment.objects.exists()


def test_the_payments_page_offers_to_record_a_payment_to_finance_staff_only(
    finance: Membership, viewer: Membership, login: Login
) -> None:
    for_finance = login(finance).get(reverse("payments:payment_list")).content.decode()
    for_viewer = login(viewer).get(reverse("payments:payment_list")).content.decode()

    assert f'<a href="{CREATE}" class="btn btn-primary">Record payment</a>' in for_finance
    assert "Record payment" not in for_viewer


def test_recording_a_payment_without_a_client_first_asks_which_client_paid(
    finance: Membership, login: Login, payer: Client, outsider: Membership
) -> None:
    ClientFactory(agency=outsider.agency, name="Rival Client Ltd")

    response = login(finance).get(CREATE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Which client paid?" in html
    assert f'<form method="get" action="{CREATE}"' in html
    assert f'<option value="{payer.pk}">Acme Corp (USD)</option>' in html
    assert "Rival Client Ltd" not in html
