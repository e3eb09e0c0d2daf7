"""A recurring line says how often it is billed wherever the client or the staff read it:
"$650.00 / month" on the staff page, the portal, the PDF and the email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.billing.documents.build import document_pdf
from clientledger.billing.documents.data import document_data
from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import UnitType
from clientledger.lines.choices import Recurrence
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.billing.conftest import RECIPIENTS, line
from tests.billing.documents.test_render import pdf_text, squeezed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None], media_root: Path) -> None:
    """Every test here runs on 2026-11-24 and stores issued PDFs in a throw-away folder."""


RETAINER_LINES = [
    line("SEO retainer", "1", "650.00", unit=UnitType.MONTH, recurrence=Recurrence.MONTHLY),
    line("Social media", "3", "400.00", unit=UnitType.MONTH, recurrence=Recurrence.QUARTERLY),
    line("Launch workshop", "1", "900.00", unit=UnitType.FIXED),
]


@pytest.fixture
def retainer_invoice(draft_invoice: Callable[..., Invoice]) -> Invoice:
    return invoice_issue(invoice=draft_invoice(lines=RETAINER_LINES), actor=None)


def test_each_printed_line_carries_its_billing_period(retainer_invoice: Invoice) -> None:
    printed = document_data(retainer_invoice)["lines"]

    assert [(row["amount"], row["period"]) for row in printed] == [
        ("$650.00", "month"),
        ("$1,200.00", "quarter"),
        ("$900.00", ""),
    ]


def test_the_pdf_prints_the_period_after_a_recurring_amount(retainer_invoice: Invoice) -> None:
    text = squeezed(pdf_text(document_pdf(retainer_invoice)))

    assert squeezed("$650.00 / month") in text
    assert squeezed("$1,200.00 / quarter") in text
    assert squeezed("$900.00 /") not in text


def test_the_staff_page_and_the_portal_show_the_period(
    owner_client: HttpClient, retainer_invoice: Invoice
) -> None:
    _, token = portal_link_create(document=retainer_invoice, actor=None)

    staff = owner_client.get(reverse("billing:invoice_detail", args=[retainer_invoice.pk]))
    portal = HttpClient().get(reverse("portal:document", args=[token]))

    for response in (staff, portal):
        page = response.content.decode()
        assert "$650.00 / month" in page
        assert "$1,200.00 / quarter" in page


def test_the_estimate_email_names_the_recurring_amounts(
    draft_estimate: Callable[..., Estimate],
) -> None:
    estimate_send(estimate=draft_estimate(lines=RETAINER_LINES), actor=None, recipients=RECIPIENTS)

    email = EmailMessage.objects.get()
    for body in (email_render(email).text, email_render(email).html):
        assert "$650.00 / month" in body
        assert "$1,200.00 / quarter" in body
