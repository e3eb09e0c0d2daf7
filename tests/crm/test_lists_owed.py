"""The client and deal lists show what each owes (Outstanding, Overdue), sort by it, filter
to those with something overdue, and cost the same queries however many invoices there are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_list_page, deal_list_page
from tests.factories import ClientFactory, DealFactory
from tests.reporting.conftest import Clock, clock_at, invoice_issued

__all__ = ["clock_at"]  # the fixture these tests move the clock with

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)


def owing(client: Client, total: str, *, due_in: int, deal: Deal | None = None) -> None:
    invoice_issued(
        client,
        total,
        on=TODAY - dt.timedelta(days=40),
        due=TODAY + dt.timedelta(days=due_in),
        deal=deal,
    )


@pytest.fixture
def clients(agency: Agency, clock_at: Clock) -> dict[str, Client]:
    """Able owes 100 not yet due; Baker 300, of which 50 overdue; Carter nothing."""
    clock_at.set(TODAY - dt.timedelta(days=40))
    able = ClientFactory(agency=agency, name="Able", currency="USD")
    baker = ClientFactory(agency=agency, name="Baker", currency="USD")
    carter = ClientFactory(agency=agency, name="Carter", currency="USD")
    owing(able, "100.00", due_in=5)
    owing(baker, "250.00", due_in=3)
    owing(baker, "50.00", due_in=-2)
    clock_at.set(TODAY)
    return {"able": able, "baker": baker, "carter": carter}


def names(page: object) -> list[str]:
    return [client.name for client in page]  # type: ignore[attr-defined]


def test_clients_sort_by_outstanding_and_by_overdue_most_first(
    agency: Agency, clients: dict[str, Client]
) -> None:
    by_outstanding = client_list_page(agency=agency, sort="outstanding").page
    by_overdue = client_list_page(agency=agency, sort="overdue").page

    assert names(by_outstanding) == ["Baker", "Able", "Carter"]
    assert [c.outstanding_minor for c in by_outstanding] == [30000, 10000, 0]  # type: ignore[attr-defined]
    assert names(by_overdue) == ["Baker", "Able", "Carter"]
    assert [c.overdue_minor for c in by_overdue] == [5000, 0, 0]  # type: ignore[attr-defined]


def test_has_overdue_keeps_only_clients_with_an_invoice_past_due(
    agency: Agency, clients: dict[str, Client]
) -> None:
    assert names(client_list_page(agency=agency, has_overdue=True).page) == ["Baker"]


def test_deals_show_what_their_invoices_owe(
    agency: Agency, clients: dict[str, Client], clock_at: Clock
) -> None:
    website = DealFactory(client=clients["able"], title="Website")
    DealFactory(client=clients["carter"], title="Logo")
    clock_at.set(TODAY - dt.timedelta(days=40))
    owing(clients["able"], "70.00", due_in=-1, deal=website)
    clock_at.set(TODAY)

    listing = deal_list_page(agency=agency, sort="overdue")
    overdue_only = deal_list_page(agency=agency, has_overdue=True)

    assert [(d.title, d.outstanding_minor, d.overdue_minor) for d in listing.page] == [  # type: ignore[attr-defined]
        ("Website", 7000, 7000),
        ("Logo", 0, 0),
    ]
    assert [deal.title for deal in overdue_only.page] == ["Website"]


def test_the_lists_cost_the_same_queries_with_more_invoices(
    sales: Membership,
    agency: Agency,
    clients: dict[str, Client],
    clock_at: Clock,
    login: Callable[[Membership], HttpClient],
) -> None:
    http = login(sales)
    DealFactory(client=clients["able"], title="Website")
    urls = [
        reverse("crm:client_list") + "?sort=overdue&overdue=1",
        reverse("crm:deal_list") + "?sort=outstanding",
    ]
    before = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        before.append(len(queries))
    clock_at.set(TODAY - dt.timedelta(days=40))
    for index in range(5):
        client = ClientFactory(agency=agency, currency="USD")
        DealFactory(client=client, title=f"Deal {index}")
        owing(client, "20.00", due_in=-index)
    clock_at.set(TODAY)

    after = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            page = http.get(url)
        after.append(len(queries))
        assert "Overdue" in page.content.decode()

    assert after == before
