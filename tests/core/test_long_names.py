"""Names as long as the fields allow stay in their table column: cut with an ellipsis by CSS
(`cl-truncate`), the whole name in the title attribute. The browser journey in
tests/e2e/test_pages_journey.py checks that the tables really fit at 1440 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.billing.services.drafts import estimate_create_from_deal, invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.lines.data import LineData
from clientledger.payments.services.manual import payment_record_manual
from tests.factories import ClientFactory, ContactFactory, DealFactory, DealLineFactory

CLIENT_NAME = "Client" + "x" * 194
CONTACT_NAME = "Contact" + "y" * 143
DEAL_TITLE = "Deal" + "z" * 196
REFERENCE = "Reference" + "r" * 191

# An element whose text is exactly the name: its opening tag is captured.
_SHOWN = r"(<[a-z]+\b[^>]*>)\s*{text}\s*</"


def shown_untruncated(html: str, text: str) -> list[str]:
    """Opening tags that show `text` without cutting it (options of a select excepted)."""
    tags = re.findall(_SHOWN.format(text=re.escape(text)), html)
    return [
        tag
        for tag in tags
        if not tag.startswith("<option") and not ("cl-truncate" in tag and f'title="{text}"' in tag)
    ]


@pytest.mark.django_db
def test_long_names_are_cut_with_an_ellipsis_in_every_list(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    client = ClientFactory(agency=agency, name=CLIENT_NAME)
    ContactFactory(client=client, name=CONTACT_NAME)
    deal = DealFactory(client=client, title=DEAL_TITLE, owner=owner.user)
    DealLineFactory(deal=deal)
    estimate_create_from_deal(deal=deal, actor=None)
    invoice = invoice_create(
        agency=agency,
        actor=None,
        client=client,
        deal=deal,
        lines=[LineData(description="Retainer", quantity=Decimal(1), unit_price=Decimal(100))],
    )
    invoice_issue(invoice=invoice, actor=None)
    payment_record_manual(
        agency=agency,
        actor=None,
        client=client,
        amount=Decimal(10),
        currency=client.currency,
        received_on=invoice.issue_date or invoice.created_at.date(),
        method="check",
        reference=REFERENCE,
    )
    http = login(owner)
    pages = {
        "dashboard": reverse("home"),
        "clients": reverse("crm:client_list"),
        "client": reverse("crm:client_detail", args=[client.pk]),
        "deals": reverse("crm:deal_list"),
        "estimates": reverse("billing:estimate_list"),
        "invoices": reverse("billing:invoice_list"),
        "payments": reverse("payments:payment_list"),
    }

    for page, url in pages.items():
        html = http.get(url).content.decode()
        for text in (CLIENT_NAME, CONTACT_NAME, DEAL_TITLE, REFERENCE):
            assert shown_untruncated(html, text) == [], (page, text)
