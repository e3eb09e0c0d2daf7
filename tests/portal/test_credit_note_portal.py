"""A credit note as its client receives it: the emailed link opens it, names the invoice it
corrects, and downloads its PDF."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from clientledger.billing.services.credit_notes import credit_note_create, credit_note_issue
from clientledger.billing.services.drafts import invoice_create_from_deal
from clientledger.billing.services.invoices import invoice_issue
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.portal.conftest import deal_with_lines

pytestmark = pytest.mark.django_db


def test_the_client_opens_the_emailed_credit_note_and_downloads_its_pdf() -> None:
    invoice = invoice_issue(
        invoice=invoice_create_from_deal(deal=deal_with_lines(), actor=None), actor=None
    )
    draft = credit_note_create(invoice=invoice, actor=None, reason="Sprint 2 cancelled")
    issued = credit_note_issue(credit_note=draft, actor=None, recipients=["ap@client.example"])
    link = re.search(r"https?://\S+/p/\S+", email_render(EmailMessage.objects.get()).text)
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]

    browser = HttpClient()
    shown = browser.get(path).content.decode()
    assert f"Credit note {issued.number} for invoice {invoice.number}" in shown
    assert "Reason: Sprint 2 cancelled" in shown
    assert "Balance due" not in shown
    pdf = browser.get(path.rstrip("/") + "/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
