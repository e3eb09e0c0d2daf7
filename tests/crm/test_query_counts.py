"""List pages cost the same number of queries with 10 rows as with 1,000."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
)
from clientledger.billing.services.drafts import estimate_create, invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage
from clientledger.lines.data import LineData


def populate(agency: Agency, count: int, owner_id: int, service: Service, vat: TaxRate) -> None:
    """`count` clients, each with a contact, and a deal with two lines (bulk inserts)."""
    clients = Client.objects.bulk_create(
        Client(agency=agency, name=f"Client {index:04d}", currency="USD") for index in range(count)
    )
    Contact.objects.bulk_create(
        Contact(agency=agency, client=client, name=f"Contact of {client.name}")
        for client in clients
    )
    stages = DealStage.values
    deals = Deal.objects.bulk_create(
        Deal(
            agency=agency,
            client=client,
            owner_id=owner_id,
            title=f"Deal {index:04d}",
            stage=stages[index % len(stages)],
        )
        for index, client in enumerate(clients)
    )
    DealLine.objects.bulk_create(
        DealLine(
            agency=agency,
            deal=deal,
            position=position,
            service=service,
            description="Design",
            quantity=Decimal(3),
            unit_price=Decimal("99.50"),
            tax_1=vat,
        )
        for deal in deals
        for position in range(2)
    )


def queries_for(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["crm:client_list", "crm:deal_list", "crm:pipeline"])
def test_a_list_page_costs_the_same_queries_whatever_the_row_count(
    owner_client: HttpClient,
    owner: Membership,
    agency: Agency,
    design: Service,
    vat: TaxRate,
    name: str,
) -> None:
    url = reverse(name)
    populate(agency, 10, owner.user_id, design, vat)
    few = queries_for(owner_client, url)
    populate(agency, 990, owner.user_id, design, vat)
    many = queries_for(owner_client, url)
    assert many == few
    assert few <= 8


@pytest.mark.parametrize("name", ["crm:client_detail", "crm:deal_detail"])
def test_a_record_page_costs_the_same_queries_whatever_it_holds(
    owner_client: HttpClient,
    owner: Membership,
    agency: Agency,
    design: Service,
    vat: TaxRate,
    name: str,
) -> None:
    populate(agency, 1, owner.user_id, design, vat)
    deal = Deal.objects.get()
    url = reverse(name, args=[deal.client_id if name == "crm:client_detail" else deal.pk])
    few = queries_for(owner_client, url)
    Contact.objects.bulk_create(
        Contact(agency=agency, client_id=deal.client_id, name=f"Contact {index}")
        for index in range(50)
    )
    more_deals = Deal.objects.bulk_create(
        Deal(agency=agency, client_id=deal.client_id, owner_id=owner.user_id, title=f"D{index}")
        for index in range(50)
    )
    DealLine.objects.bulk_create(
        DealLine(
            agency=agency,
            deal=target,
            position=index,
            service=design,
            description="Extra",
            quantity=Decimal(1),
            unit_price=Decimal(10),
            tax_1=vat,
        )
        for target in [deal, *more_deals]
        for index in range(2, 30)
    )
    documents_add(deal, count=3)
    assert queries_for(owner_client, url) == few


def documents_add(deal: Deal, *, count: int) -> None:
    """`count` estimates and invoices of the deal, the invoices issued and each credited once
    (the documents card shows a row of each, and must read none again)."""
    client = deal.client
    for _ in range(count):
        lines = [LineData(description="Work", quantity=Decimal(1), unit_price=Decimal(100))]
        estimate_create(agency=deal.agency, actor=None, client=client, deal=deal, lines=lines)
        draft = invoice_create(
            agency=deal.agency, actor=None, client=client, deal=deal, lines=lines
        )
        invoice = invoice_issue(invoice=draft, actor=None)
        credit_line = CreditLine(
            data=LineData(description="Refund", quantity=Decimal(1), unit_price=Decimal(10))
        )
        credit_note_issue(
            credit_note=credit_note_create(
                invoice=invoice, actor=None, reason="Late delivery.", lines=[credit_line]
            ),
            actor=None,
        )
