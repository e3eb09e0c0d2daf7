"""A credit note refunded through Stripe, in a real browser: staff open an issued, partly paid
invoice, credit part of its line, choose a refund, and refund it through Stripe; the signed
refund webhook confirms it; the invoice, the client's balance and credit and the ledger tell
the right amounts; the client opens the emailed link and downloads the credit note's PDF."""

from __future__ import annotations

import re

import pytest
from django.db.models import Sum
from django.urls import reverse
from playwright.sync_api import Page

from clientledger.billing.models import CreditNote, LedgerEntry
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from clientledger.payments.models import Refund, RefundStatus
from clientledger.payments.selectors import client_credit_minor
from clientledger.payments.stripe.sync import stripe_requests_send_due
from tests.e2e.test_payment_journeys import CARD, Journey, fake_stripe, invoice, journey, staff

__all__ = ["fake_stripe", "invoice", "journey", "staff"]  # the payment journeys' fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAID_MINOR = 60_000  # $600.00 of the $1,200.00 invoice, by card


def issue_a_refunded_credit_note(page: Page, journey: Journey) -> None:
    """On the invoice page: a credit note for $300.00 of the retainer line, to be refunded."""
    invoice_page = journey.staff_invoice()
    invoice_page.get_by_label("Correct this invoice").fill("Retainer hours not used")
    invoice_page.get_by_role("button", name="Create credit note").click()
    page.get_by_role("link", name="Edit lines").click()
    page.get_by_label("Unit price").first.fill("300.00")
    page.get_by_role("button", name="Save lines").click()
    page.get_by_label("Refund to the client").check()
    page.get_by_role("button", name="Issue credit note").click()
    assert "issued" in page.locator(".alert").first.inner_text()


def test_staff_refund_a_credit_note_through_stripe_and_the_client_downloads_it(
    journey: Journey,
) -> None:
    intent = journey.stripe.intent(
        "pi_card", invoice=journey.invoice, status="succeeded", amount=PAID_MINOR, method=CARD
    )
    journey.webhook("payment_intent.succeeded", intent)
    page = journey.staff_page

    issue_a_refunded_credit_note(page, journey)
    note = CreditNote.objects.get()
    assert (note.status, note.total_minor) == ("issued", 30_000)
    page.get_by_role("link", name="Refund the credit").click()
    page.get_by_role("button", name="Refund").click()
    assert "pending until Stripe confirms it" in page.locator(".alert").first.inner_text()

    assert stripe_requests_send_due(as_of=clock.now()) == {"done": 1}
    refund = Refund.objects.get()
    confirmed = journey.stripe.refund("pi_card", 30_000, refund_id=str(refund.stripe_refund_id))
    journey.webhook("refund.updated", confirmed)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED

    staff_invoice = journey.staff_invoice()
    facts = staff_invoice.locator(".subheader:text-is('Balance due') + div + div").inner_text()
    assert "$300.00 paid" in facts and "$300.00 credited" in facts
    assert staff_invoice.locator(".subheader:text-is('Balance due') + div").inner_text() == (
        "$600.00"
    )
    assert journey.staff_client_balance() == "$600.00"
    client = Client.objects.get(pk=journey.invoice.client_id)
    assert client_credit_minor(agency=client.agency, client=client) == 0
    ledger = LedgerEntry.objects.filter(client=client).aggregate(total=Sum("amount_minor"))
    assert ledger["total"] == 60_000 == client.balance_minor

    page.goto(journey.base + reverse("billing:credit_note_send", args=[note.pk]))
    page.get_by_role("button", name="Send credit note").click()
    body = email_render(EmailMessage.objects.get(subject__contains="credit note")).text
    link = re.search(r"https?://\S+/p/\S+/", body)
    assert link is not None
    client_page = journey.client_page
    client_page.goto(link.group(0))
    assert f"for invoice {journey.invoice.number}" in client_page.locator("body").inner_text()
    with client_page.expect_download() as download:
        client_page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{note.number}.pdf"
