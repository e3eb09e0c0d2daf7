"""The scale loader (bench/loading.py) writes rows the app reads as its own: the pages of
issue 14 answer, a loaded client link opens, issuing goes on after the loaded numbers, and
cached balances equal ledger sums (the reconcile check of tests/conftest.py after each test)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient

from bench.loading import agency_load, invoice_portal_token, loaded_open_invoices
from clientledger.accounts.models import Membership
from clientledger.accounts.number_formats import format_number
from clientledger.billing.models import Invoice, InvoiceLine
from clientledger.billing.services.invoices import invoice_issue
from clientledger.crm.deal_values import stored_value_fields
from clientledger.crm.models import STORED_VALUE_FIELDS, Client, Deal
from clientledger.crm.selectors import deal_value
from clientledger.payments.models import Allocation

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the loader writes by PostgreSQL's COPY"
    ),
    pytest.mark.django_db(transaction=True),  # VACUUM runs outside a transaction
]


def test_the_loaded_agency_serves_its_pages(owner: Membership, owner_client: HttpClient) -> None:
    counts = agency_load(connection, owner.agency, 300)

    assert counts["invoices"] == Invoice.objects.filter(agency=owner.agency).count() == 300
    assert counts["allocations"] == Allocation.objects.filter(agency=owner.agency).count()
    client = Client.objects.filter(agency=owner.agency).order_by("id")[0]
    deal = Deal.objects.filter(client=client).get()
    stored = {name: getattr(deal, name) for name in STORED_VALUE_FIELDS}
    assert stored == stored_value_fields(deal_value(deal=deal))
    invoice = loaded_open_invoices(owner.agency).order_by("id")[0]
    for url in (
        "/billing/invoices/?overdue=on",
        "/clients/",
        f"/clients/{client.pk}/",
        f"/billing/invoices/{invoice.pk}/",
        "/",
    ):
        assert owner_client.get(url).status_code == 200, url
    portal = HttpClient().get(f"/p/{invoice_portal_token(invoice.pk, owner.agency.pk)}/")
    assert portal.status_code == 200
    assert invoice.number in portal.content.decode()


def test_issuing_after_the_load_takes_the_next_number(owner: Membership) -> None:
    agency = owner.agency
    agency_load(connection, agency, 300)
    today = dt.date.today()
    issued_this_year = Invoice.objects.filter(agency=agency, issue_date__year=today.year).count()
    client = Client.objects.filter(agency=agency).order_by("id")[0]
    draft = Invoice.objects.create(agency=agency, client=client, currency="USD")
    InvoiceLine.objects.create(
        agency=agency,
        invoice=draft,
        position=1,
        description="Audit",
        quantity=Decimal(1),
        unit_price=Decimal("100.00"),
    )

    issued = invoice_issue(invoice=draft, actor=None, issue_date=today)

    expected = format_number(agency.invoice_number_format, on=today, sequence=issued_this_year + 1)
    assert issued.number == expected
