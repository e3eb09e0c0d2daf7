"""The estimate-to-invoice path through the services, end to end in one test file."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from clientledger.billing.documents.build import document_pdf
from clientledger.billing.documents.data import document_data
from clientledger.billing.models import EstimateStatus, InvoiceStatus, LedgerEntry
from clientledger.billing.services.drafts import estimate_create_from_deal
from clientledger.billing.services.estimates import estimate_approve, estimate_convert
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.billing.services.sending import estimate_send
from clientledger.core import clock
from clientledger.jobs.sweeps import SWEEPS
from tests.factories import DealLineFactory, TaxRateFactory

drain_outbox = SWEEPS["drain_outbox"]
pytestmark = pytest.mark.django_db


def test_a_deal_becomes_an_approved_estimate_then_an_issued_invoice() -> None:
    vat = TaxRateFactory(percent=Decimal("19"))
    line = DealLineFactory(deal__client__agency=vat.agency, deal__agency=vat.agency, tax_1=vat)
    deal = line.deal
    estimate = estimate_create_from_deal(deal=deal, actor=None)
    assert (estimate.status, estimate.number, estimate.total_minor) == ("draft", "", 119_000)

    estimate = estimate_send(estimate=estimate, actor=None, recipients=["ap@client.example"])
    assert estimate.status == EstimateStatus.SENT
    assert estimate.number.startswith("EST-")
    assert drain_outbox(as_of=clock.now()) == {"sent": 1}
    assert mail.outbox[0].attachments[0][0] == f"{estimate.number}.pdf"

    estimate = estimate_approve(estimate=estimate, name="Ada", ip="127.0.0.1", user_agent="test")
    invoice = estimate_convert(estimate=estimate, actor=None)
    with pytest.raises(ValidationError):
        estimate_convert(estimate=estimate, actor=None)
    invoice = invoice_issue(invoice=invoice, actor=None)
    assert invoice.status == InvoiceStatus.OPEN and invoice.number.startswith("INV-")
    assert LedgerEntry.objects.get().amount_minor == 119_000
    assert document_pdf(invoice).startswith(b"%PDF")
    invoice = invoice_void(invoice=invoice, actor=None, reason="Duplicate")
    assert sum(LedgerEntry.objects.values_list("amount_minor", flat=True)) == 0


def test_a_tax_named_with_its_rate_is_not_printed_with_it_twice() -> None:
    named = TaxRateFactory(name="Sales tax 8.875%", percent=Decimal("8.875"))
    plain = TaxRateFactory(agency=named.agency, name="VAT", percent=Decimal("19.000"))
    deal = DealLineFactory(
        deal__client__agency=named.agency, deal__agency=named.agency, tax_1=named
    ).deal
    DealLineFactory(deal=deal, agency=named.agency, tax_1=plain)
    estimate = estimate_create_from_deal(deal=deal, actor=None)
    labels = [row["name"] for row in document_data(estimate)["tax_breakdown"]]
    assert labels == ["Sales tax 8.875%", "VAT 19%"]
