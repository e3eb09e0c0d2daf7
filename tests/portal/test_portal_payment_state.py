"""What a client sees of an invoice's payment state: how to pay whenever something is due, with
Stripe or without, and a PDF that shows the payments and a PAID mark, while the original as
issued stays archived unchanged and staff can still download it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.documents.build import document_pdf
from clientledger.billing.models import Invoice
from tests.billing.documents.test_render import pdf_text, squeezed
from tests.factories import AgencyFactory, ClientFactory
from tests.payments.conftest import issue_invoice
from tests.payments.stripe_fake import FakeStripe, fake_stripe
from tests.portal.test_portal_pay import paid_by_transfer, token_of

pytestmark = pytest.mark.django_db
__all__ = ["fake_stripe"]

BANK = "Transfer to IBAN DE89 3704 0044 0532 0130 00, quoting the invoice number."
ISSUED_BALANCE = "Balancedue$1,000.00"


def invoice_of(agency: Agency | None = None, **agency_fields: str) -> Invoice:
    agency = agency or AgencyFactory(name="Northwind Studio", **agency_fields)
    return issue_invoice(ClientFactory(agency=agency, currency="USD"), "1000.00")


def paid(invoice: Invoice, amount: str) -> Invoice:
    paid_by_transfer(invoice, amount)
    invoice.refresh_from_db()
    return invoice


def portal_page(invoice: Invoice) -> str:
    response = HttpClient().get(reverse("portal:document", args=[token_of(invoice)]))
    assert response.status_code == 200
    return response.content.decode()


def portal_pdf(invoice: Invoice) -> bytes:
    response = HttpClient().get(reverse("portal:pdf", args=[token_of(invoice)]))
    assert response.status_code == 200
    return response.content


# --- how to pay -------------------------------------------------------------------------------


def test_instructions_the_agency_added_after_issuing_show_on_the_portal_without_stripe() -> None:
    invoice = invoice_of()
    invoice.agency.payment_instructions = BANK
    invoice.agency.save()

    html = portal_page(invoice)

    assert "How to pay" in html and BANK in html
    assert "Pay now" not in html


def test_with_stripe_the_portal_offers_pay_now_and_the_instructions(
    fake_stripe: FakeStripe,
) -> None:
    html = portal_page(invoice_of(payment_instructions=BANK))

    assert "Pay now" in html
    assert "Other ways to pay" in html and BANK in html


def test_a_paid_invoice_asks_for_no_payment() -> None:
    invoice = paid(invoice_of(payment_instructions=BANK), "1000.00")

    html = portal_page(invoice)

    assert BANK not in html and "How to pay" not in html


def test_without_instructions_or_stripe_the_client_is_told_whom_to_ask() -> None:
    html = portal_page(invoice_of())

    assert "To pay this invoice, please contact Northwind Studio and quote INV-" in html


# --- the PDF download -------------------------------------------------------------------------


def test_an_invoice_nobody_paid_downloads_as_its_issued_original() -> None:
    invoice = invoice_of()
    original = document_pdf(invoice)

    assert portal_pdf(invoice) == original


def test_a_paid_invoice_downloads_marked_paid_with_its_payments_and_the_original_is_kept() -> None:
    invoice = invoice_of(payment_instructions=BANK)
    original = document_pdf(invoice)
    invoice = paid(invoice, "1000.00")

    text = squeezed(pdf_text(portal_pdf(invoice)))

    assert "PAID" in text and "PAIDINFULL$1,000.00" in text
    assert "PAYMENTSRECEIVED" in text and "Nov24,2026Banktransfer$1,000.00" in text
    assert "Balancedue$0.00" in text and ISSUED_BALANCE not in text
    assert squeezed(BANK) not in text
    assert "Paymentstatuson" in text
    invoice.refresh_from_db()
    with invoice.pdf.open("rb") as stored:
        assert stored.read() == original


def test_a_partly_paid_invoice_downloads_with_the_payment_and_what_is_left() -> None:
    invoice = paid(invoice_of(payment_instructions=BANK), "400.00")

    text = squeezed(pdf_text(portal_pdf(invoice)))

    assert "Amountpaid$400.00" in text and "Balancedue$600.00" in text
    assert "Nov24,2026Banktransfer$400.00" in text
    assert squeezed(BANK) in text
    assert "PAID" not in text


def test_the_archived_original_shows_the_invoice_as_issued_even_when_rendered_after_payment() -> (
    None
):
    invoice = paid(invoice_of(), "1000.00")

    text = squeezed(pdf_text(document_pdf(invoice)))

    assert ISSUED_BALANCE in text and "Amountpaid$0.00" in text
    assert "PAID" not in text and "PAYMENTSRECEIVED" not in text


def test_staff_download_the_original_as_issued_and_the_copy_with_payments(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    invoice = invoice_of(owner.agency)
    original = document_pdf(invoice)
    invoice = paid(invoice, "1000.00")
    http = login(owner)

    page = http.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    as_issued = http.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    current = http.get(reverse("billing:invoice_pdf_current", args=[invoice.pk]))

    assert "PDF as issued" in page and "PDF with payment status" in page
    assert b"".join(as_issued) == original
    assert "PAID" in squeezed(pdf_text(current.content))
    assert current["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'


# --- the state the client reads ---------------------------------------------------------------


def test_a_partly_paid_invoice_reads_partially_paid_on_the_portal() -> None:
    invoice = paid(invoice_of(payment_instructions=BANK), "400.00")

    html = portal_page(invoice)

    assert "Partially paid" in html
    assert ">Open<" not in html


def test_an_unpaid_invoice_reads_open_on_the_portal() -> None:
    html = portal_page(invoice_of(payment_instructions=BANK))

    assert ">Open<" in html
    assert "Partially paid" not in html
