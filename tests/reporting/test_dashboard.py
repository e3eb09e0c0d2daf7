from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.audit_verbs import AgencyVerb
from clientledger.accounts.models import Agency, Membership
from clientledger.core.audit import audit_record
from clientledger.crm.audit_verbs import DealVerb
from clientledger.crm.models import Deal, DealStage
from tests.factories import ClientFactory, DealFactory, DealLineFactory

pytestmark = pytest.mark.django_db


def deal_worth(agency: Agency, amount: str, *, stage: str, currency: str = "USD") -> Deal:
    client = ClientFactory(agency=agency, currency=currency)
    deal = DealFactory(client=client, stage=stage, title=f"{stage} deal {currency} {amount}")
    DealLineFactory(deal=deal, quantity=Decimal(1), unit_price=Decimal(amount))
    return deal


def test_an_empty_agency_is_shown_how_to_start(
    viewer: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(viewer).get(reverse("home"))

    assert response.status_code == 200
    assert response.context["summary"].client_count == 0
    assert "Welcome to ClientLedger" in response.content.decode()


def test_the_dashboard_sums_open_deals_per_currency_and_counts_stages(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    deal_worth(agency, "1000.00", stage=DealStage.LEAD)
    deal_worth(agency, "250.50", stage=DealStage.PROPOSAL)
    deal_worth(agency, "300.00", stage=DealStage.PROPOSAL, currency="EUR")
    won = deal_worth(agency, "9999.00", stage=DealStage.WON)
    deal_worth(agency, "5000.00", stage=DealStage.LOST)

    response = login(owner).get(reverse("home"))

    summary = response.context["summary"]
    assert summary.client_count == 5
    assert summary.open_pipeline == {"USD": Decimal("1250.50"), "EUR": Decimal("300.00")}
    counts = {column.stage: len(column.deals) for column in summary.columns}
    assert counts == {"lead": 1, "qualified": 0, "proposal": 2, "won": 1, "lost": 1}
    page = response.content.decode()
    assert "$1,250.50" in page
    assert won.title in page


def test_recent_activity_reads_as_words(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    client = ClientFactory(agency=owner.agency, name="Acme Rockets")
    audit_record(agency=owner.agency, actor=owner.user, verb=DealVerb.STAGE_CHANGED, subject=client)

    response = login(owner).get(reverse("home"))

    page = response.content.decode()
    assert "deal stage changed" in page
    assert "Acme Rockets" in page


def test_the_dashboard_ignores_other_agencies(
    owner: Membership, outsider: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    deal_worth(outsider.agency, "700.00", stage=DealStage.LEAD)
    audit_record(
        agency=outsider.agency,
        actor=outsider.user,
        verb=AgencyVerb.UPDATED,
        subject=outsider.agency,
    )

    response = login(owner).get(reverse("home"))

    summary = response.context["summary"]
    assert (summary.client_count, summary.open_pipeline) == (0, {})
    assert list(summary.recent_activity) == []


def test_the_dashboard_costs_the_same_queries_for_one_deal_or_many(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)
    deal_worth(owner.agency, "100.00", stage=DealStage.LEAD)
    with CaptureQueriesContext(connection) as one:
        http.get(reverse("home"))
    for stage in (DealStage.QUALIFIED, DealStage.PROPOSAL, DealStage.WON, DealStage.LEAD):
        deal_worth(owner.agency, "100.00", stage=stage)

    with CaptureQueriesContext(connection) as many:
        http.get(reverse("home"))

    assert len(many) == len(one)


def test_each_dashboard_figure_is_labelled_with_its_currency(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    deal_worth(agency, "1000.00", stage=DealStage.PROPOSAL)
    deal_worth(agency, "300.00", stage=DealStage.PROPOSAL, currency="EUR")
    deal_worth(agency, "80.00", stage=DealStage.PROPOSAL, currency="GBP")

    page = login(owner).get(reverse("home")).content.decode()

    dollars = '$1,000.00 <abbr class="cl-currency" title="US Dollar">USD</abbr>'
    euros = '€300.00 <abbr class="cl-currency" title="Euro">EUR</abbr>'
    pounds = '£80.00 <abbr class="cl-currency" title="British Pound">GBP</abbr>'
    # Open pipeline, the proposal card and the stage table each show all three.
    for figure in (dollars, euros, pounds):
        assert page.count(figure) == 3
