"""Saved lines the money engine refuses (a rate made compound around the catalog's rule, or
data from before it) never take a page down: the deal says why it cannot be priced."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.catalog.models import TaxRate
from clientledger.crm.deal_values import deals_reprice
from clientledger.crm.models import Deal
from tests.factories import DealLineFactory

pytestmark = pytest.mark.django_db

REASON = "Cannot be priced: line 2: VAT is compound, so it can only be the second tax of a line"


@pytest.fixture
def unpriceable_deal(deal: Deal, vat: TaxRate) -> Deal:
    DealLineFactory(deal=deal, description="Discovery workshop")
    DealLineFactory(deal=deal, description="Design sprint", tax_1=vat)
    # Written around the catalog service, as a database edit or an old release would; the
    # deal's stored value is then priced again, as the migration that added it did.
    TaxRate.objects.filter(pk=vat.pk).update(is_compound=True)
    deals_reprice(Deal.objects.filter(pk=deal.pk))
    return deal


@pytest.mark.parametrize(
    "page",
    [
        "home",
        "crm:deal_list",
        "crm:pipeline",
        "crm:client_detail",
        "crm:deal_detail",
        "crm:deal_lines",
    ],
)
def test_a_deal_whose_lines_cannot_be_priced_says_why_on_every_page_that_shows_it(
    owner_client: HttpClient, unpriceable_deal: Deal, page: str
) -> None:
    args = {
        "crm:client_detail": [unpriceable_deal.client_id],
        "crm:deal_detail": [unpriceable_deal.pk],
        "crm:deal_lines": [unpriceable_deal.pk],
    }.get(page, [])

    response = owner_client.get(reverse(page, args=args))

    assert response.status_code == 200
    if page != "home":
        assert REASON in response.content.decode()


def test_the_pipeline_leaves_an_unpriceable_deal_out_of_its_column_totals(
    owner_client: HttpClient, unpriceable_deal: Deal
) -> None:
    board = owner_client.get(reverse("crm:pipeline")).context["board"]

    lead = next(column for column in board.columns if column.stage == "lead")
    assert [deal for deal, _ in lead.deals] == [unpriceable_deal]
    assert lead.totals == {}
