"""An invoice's Stripe state (a bank payment processing, an open dispute) as the staff
invoice page and list show it, read in SQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.payments.models import DisputeStatus, Payment, PaymentStatus
from clientledger.payments.selectors import (
    InvoicePaymentState,
    invoice_payment_state,
    invoice_payment_states,
)
from tests.payments.conftest import OpenInvoice
from tests.payments.stripe_rows import open_dispute, pending_ach_payment

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]


def test_only_pending_payments_of_the_invoice_count_as_pending(
    open_invoice: OpenInvoice,
) -> None:
    invoice, other = open_invoice("100.00"), open_invoice("100.00")
    pending_ach_payment(invoice, 1500)
    pending_ach_payment(invoice, 2500)
    failed = pending_ach_payment(invoice, 7000)
    Payment.objects.filter(pk=failed.pk).update(status=PaymentStatus.FAILED)
    pending_ach_payment(other, 9900)

    assert invoice_payment_state(invoice=invoice) == InvoicePaymentState(
        pending_minor=4000, disputed=False
    )


@pytest.mark.parametrize(
    ("status", "disputed"),
    [
        (DisputeStatus.WARNING_NEEDS_RESPONSE, True),
        (DisputeStatus.NEEDS_RESPONSE, True),
        (DisputeStatus.UNDER_REVIEW, True),
        (DisputeStatus.WON, False),
        (DisputeStatus.LOST, False),
        (DisputeStatus.WARNING_CLOSED, False),
    ],
)
def test_only_an_open_dispute_flags_the_invoice(
    open_invoice: OpenInvoice, status: str, disputed: bool
) -> None:
    invoice = open_invoice("100.00")
    open_dispute(invoice, status=status)

    assert invoice_payment_state(invoice=invoice).disputed is disputed


def test_the_states_of_many_invoices_take_one_query(
    open_invoice: OpenInvoice, django_assert_num_queries: Any
) -> None:
    invoices = [open_invoice("100.00") for _ in range(5)]
    pending_ach_payment(invoices[0], 3000)
    open_dispute(invoices[1])

    with django_assert_num_queries(1):
        states = invoice_payment_states(
            agency=invoices[0].agency, invoice_ids=[invoice.pk for invoice in invoices]
        )

    assert states[invoices[0].pk] == InvoicePaymentState(pending_minor=3000, disputed=False)
    assert states[invoices[1].pk] == InvoicePaymentState(pending_minor=0, disputed=True)
    assert states[invoices[2].pk] == InvoicePaymentState(pending_minor=0, disputed=False)


def test_the_invoice_page_shows_payment_pending_and_disputed(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice, calm = open_invoice("100.00"), open_invoice("100.00")
    pending_ach_payment(invoice, 4000)
    open_dispute(invoice)
    http = login(owner)

    flagged = http.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    plain = http.get(reverse("billing:invoice_detail", args=[calm.pk])).content.decode()

    assert "Payment pending · $40.00" in flagged and "Disputed</span>" in flagged
    assert "Payment pending" not in plain and "Disputed</span>" not in plain


def test_the_invoice_list_flags_each_invoice_in_one_more_query(
    owner: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    http = login(owner)
    url = reverse("billing:invoice_list")

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            html = http.get(url).content.decode()
        return len(captured), html

    pending, disputed = open_invoice("100.00"), open_invoice("100.00")
    pending_ach_payment(pending, 2500)
    open_dispute(disputed)
    few, html = queries()
    for _ in range(20):
        pending_ach_payment(open_invoice("100.00"), 100)
    many, _ = queries()

    assert html.count("Payment pending · $25.00") == 1
    assert html.count("Disputed</span>") == 1
    assert few == many
