"""A client opens an invoice through its link and downloads the PDF."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.billing.models import Invoice
from clientledger.billing.services.invoices import invoice_void
from clientledger.billing.services.portal_links import portal_link_create
from tests.core.test_favicon import ICON_LINK
from tests.factories import AgencyFactory, TaxRateFactory
from tests.portal.conftest import IssuedInvoice, SentEstimate, deal_with_lines

pytestmark = pytest.mark.django_db


def test_the_invoice_page_shows_paid_balance_and_payment_instructions(
    issued_invoice: IssuedInvoice,
) -> None:
    agency = AgencyFactory(name="Northwind Studio", payment_instructions="IBAN DE89 3704 0044")
    invoice, token = issued_invoice(deal_with_lines(agency, lines=2))
    # Payments are not built yet: a 500.00 payment as the payments app will record it.
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid_minor=50_000)

    response = HttpClient().get(reverse("portal:document", args=[token]))

    html = response.content.decode()
    assert response.status_code == 200
    assert invoice.number in html
    assert "Amount paid" in html and "$500.00" in html
    assert "Balance due" in html and "$1,500.00" in html
    assert "IBAN DE89 3704 0044" in html
    assert "Approve estimate" not in html


def test_taxes_are_broken_down_per_rate(issued_invoice: IssuedInvoice) -> None:
    agency = AgencyFactory()
    deal = deal_with_lines(agency, lines=2)
    first, second = deal.lines.all()
    first.tax_1 = TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))
    second.tax_1 = TaxRateFactory(agency=agency, name="Reduced VAT", percent=Decimal("7"))
    first.save()
    second.save()
    _, token = issued_invoice(deal)

    html = HttpClient().get(reverse("portal:document", args=[token])).content.decode()

    assert "VAT 19%" in html and "$190.00" in html
    assert "Reduced VAT 7%" in html and "$70.00" in html
    assert "$2,260.00" in html


def test_a_void_invoice_shows_void(issued_invoice: IssuedInvoice) -> None:
    invoice, _ = issued_invoice()
    invoice = invoice_void(invoice=invoice, actor=None, reason="Sent twice")
    _, token = portal_link_create(document=invoice, actor=None)

    html = HttpClient().get(reverse("portal:document", args=[token])).content.decode()

    assert "VOID" in html and "no longer payable" in html
    assert "Balance due" not in html


def test_the_invoice_pdf_downloads_as_an_attachment(issued_invoice: IssuedInvoice) -> None:
    invoice, token = issued_invoice()

    response = HttpClient().get(reverse("portal:pdf", args=[token]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'


def test_the_estimate_pdf_downloads_too(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()

    response = HttpClient().get(reverse("portal:pdf", args=[token]))

    assert response.content.startswith(b"%PDF")
    assert f'filename="{estimate.number}.pdf"' in response["Content-Disposition"]


def test_the_portal_page_links_the_icon(issued_invoice: IssuedInvoice) -> None:
    _, token = issued_invoice()

    html = HttpClient().get(reverse("portal:document", args=[token])).content.decode()

    assert ICON_LINK in html
