"""The estimate and invoice lists (filters, search, empty states, query budgets) and the
documents shown on the client and deal pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.crm.models import Client, Deal
from tests.billing.conftest import NOW, TODAY, line
from tests.factories import ClientFactory, DealFactory

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]


def page(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


def numbers_in(html: str, prefix: str) -> set[str]:
    return set(re.findall(rf"{prefix}\d{{4}}-\d{{5}}", html))


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None]) -> None:
    """Every test here runs on 2026-11-24 (Europe/Berlin)."""


def bulk_estimates(agency: Agency, client: Client, count: int, *, start: int = 0) -> None:
    Estimate.objects.bulk_create(
        Estimate(
            agency=agency,
            client=client,
            currency="USD",
            number=f"EST-2026-{start + index:05d}",
            status=EstimateStatus.SENT,
            issue_date=TODAY,
            total_minor=10_000,
        )
        for index in range(count)
    )


def bulk_invoices(
    agency: Agency, client: Client, deal: Deal, count: int, *, start: int = 0
) -> None:
    """Open invoices, every other one past due."""
    Invoice.objects.bulk_create(
        Invoice(
            agency=agency,
            client=client,
            deal=deal,
            currency="USD",
            number=f"INV-2026-{start + index:05d}",
            status=InvoiceStatus.OPEN,
            issue_date=TODAY - dt.timedelta(days=40),
            due_date=TODAY - dt.timedelta(days=10 if index % 2 else -10),
            total_minor=10_000,
        )
        for index in range(count)
    )


def queries_for(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        page(http.get(url))
    return len(queries)


# --- empty states ------------------------------------------------------------------------


def test_the_empty_lists_invite_to_create_the_first_document(
    login: Login, owner: Membership
) -> None:
    http = login(owner)
    assert "No estimates yet" in page(http.get(reverse("billing:estimate_list")))
    assert "No invoices yet" in page(http.get(reverse("billing:invoice_list")))


def test_the_navigation_leads_to_both_lists(login: Login, viewer: Membership) -> None:
    home = page(login(viewer).get(reverse("home")))
    assert reverse("billing:estimate_list") in home and reverse("billing:invoice_list") in home


# --- estimate list -----------------------------------------------------------------------


def test_the_estimate_list_filters_by_status_and_client_and_searches(
    login: Login,
    viewer: Membership,
    draft_estimate: Callable[..., Estimate],
    sent_estimate: Callable[..., Estimate],
    agency: Agency,
) -> None:
    draft_estimate()
    sent = sent_estimate()
    globex = ClientFactory(agency=agency, name="Globex")
    bulk_estimates(agency, globex, 1, start=900)
    http = login(viewer)
    url = reverse("billing:estimate_list")

    def shown(**query: Any) -> set[str]:
        return numbers_in(page(http.get(url, query)), "EST-")

    assert shown() == {sent.number, "EST-2026-00900"}
    assert shown(status="draft") == set()
    assert "Draft" in page(http.get(url, {"status": "draft"}))
    assert shown(status="sent", client=globex.pk) == {"EST-2026-00900"}
    assert shown(q="globex") == {"EST-2026-00900"}
    # The number matches from its start (an indexed prefix search), in any case.
    assert shown(q=sent.number.lower()[:-1]) == {sent.number}
    assert shown(q=sent.number[-5:]) == set()
    assert "No estimates match" in page(http.get(url, {"q": "nothing like it"}))


def test_a_bad_filter_value_is_ignored_with_a_message(login: Login, viewer: Membership) -> None:
    html = page(login(viewer).get(reverse("billing:estimate_list"), {"status": "bogus"}))
    assert "This filter was ignored." in html


# --- invoice list ------------------------------------------------------------------------


@pytest.fixture
def invoices(
    draft_invoice: Callable[..., Invoice], agency: Agency, deal: Deal
) -> dict[str, Invoice]:
    """A draft; an invoice of the deal due today; one issued in October and now past due;
    and one of another client issued in September, due at the end of the year."""
    globex = ClientFactory(agency=agency, name="Globex")
    other = invoice_create(
        agency=agency,
        actor=None,
        client=globex,
        deal=DealFactory(client=globex),
        lines=[line(unit_price="50")],
    )
    return {
        "draft": draft_invoice(),
        "due_today": invoice_issue(invoice=draft_invoice(deal=deal), actor=None, due_date=TODAY),
        "past_due": invoice_issue(
            invoice=draft_invoice(),
            actor=None,
            issue_date=dt.date(2026, 10, 1),
            due_date=dt.date(2026, 10, 31),
        ),
        "other": invoice_issue(
            invoice=other,
            actor=None,
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 12, 31),
        ),
    }


def test_the_invoice_list_filters_and_searches(
    login: Login, viewer: Membership, invoices: dict[str, Invoice], deal: Deal, buyer: Client
) -> None:
    http = login(viewer)
    url = reverse("billing:invoice_list")

    def shown(**query: Any) -> set[str]:
        return numbers_in(page(http.get(url, query)), "INV-")

    due_today, past_due, other = invoices["due_today"], invoices["past_due"], invoices["other"]
    assert shown() == {due_today.number, past_due.number, other.number}
    assert shown(status="draft") == set()
    assert "Draft" in page(http.get(url, {"status": "draft"}))
    assert shown(client=buyer.pk) == {due_today.number, past_due.number}
    assert shown(deal=deal.pk) == {due_today.number}
    assert shown(overdue="1") == {past_due.number}
    assert shown(issued_from="2026-09-15") == {due_today.number, past_due.number}
    assert shown(issued_from="2026-09-01", issued_to="2026-10-15") == {
        past_due.number,
        other.number,
    }
    assert shown(q="GLOBEX") == {other.number}
    assert shown(q=past_due.number) == {past_due.number}


def test_the_overdue_badge_follows_the_agency_calendar(
    login: Login,
    viewer: Membership,
    draft_invoice: Callable[..., Invoice],
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    invoice = invoice_issue(invoice=draft_invoice(), actor=None, due_date=TODAY)
    http = login(viewer)
    url = reverse("billing:invoice_list")
    # 23:30 UTC is already the next day in Berlin: the invoice is now past due.
    frozen_now(dt.datetime(2026, 11, 24, 22, 59, tzinfo=dt.UTC))
    assert numbers_in(page(http.get(url, {"overdue": "1"})), "INV-") == set()
    frozen_now(dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC))
    assert numbers_in(page(http.get(url, {"overdue": "1"})), "INV-") == {invoice.number}


def test_a_reversed_date_range_is_explained_and_ignored(
    login: Login, viewer: Membership, invoices: dict[str, Invoice]
) -> None:
    html = page(
        login(viewer).get(
            reverse("billing:invoice_list"),
            {"issued_from": "2026-11-01", "issued_to": "2026-10-01"},
        )
    )
    assert "The end of the range is before its start." in html
    assert invoices["due_today"].number in html


def test_a_deal_filter_lists_that_clients_deals(
    login: Login, viewer: Membership, invoices: dict[str, Invoice], deal: Deal, buyer: Client
) -> None:
    html = page(login(viewer).get(reverse("billing:invoice_list"), {"client": buyer.pk}))
    assert f'<option value="{deal.pk}">Website relaunch</option>' in html


# --- query budgets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("billing:estimate_list", ""),
        ("billing:invoice_list", ""),
        ("billing:invoice_list", "?overdue=1"),
        ("billing:invoice_list", "?q=INV&status=open"),
    ],
)
def test_a_list_costs_the_same_queries_with_10_or_1000_documents(
    login: Login,
    owner: Membership,
    agency: Agency,
    buyer: Client,
    deal: Deal,
    name: str,
    query: str,
) -> None:
    http = login(owner)
    url = reverse(name) + query
    bulk_estimates(agency, buyer, 10)
    bulk_invoices(agency, buyer, deal, 10)
    few = queries_for(http, url)
    bulk_estimates(agency, buyer, 990, start=10)
    bulk_invoices(agency, buyer, deal, 990, start=10)
    assert queries_for(http, url) == few
    assert few <= 8


def test_the_overdue_filter_costs_what_the_plain_list_costs(
    login: Login, owner: Membership, agency: Agency, buyer: Client, deal: Deal
) -> None:
    http = login(owner)
    bulk_invoices(agency, buyer, deal, 50)
    url = reverse("billing:invoice_list")
    assert queries_for(http, url + "?overdue=1") == queries_for(http, url)


# --- client and deal pages ---------------------------------------------------------------


def test_the_client_page_lists_documents_and_what_is_overdue(
    login: Login,
    viewer: Membership,
    invoices: dict[str, Invoice],
    sent_estimate: Callable[..., Estimate],
    buyer: Client,
) -> None:
    estimate = sent_estimate()
    html = page(login(viewer).get(reverse("crm:client_detail", args=[buyer.pk])))
    for document in (estimate, invoices["due_today"], invoices["past_due"]):
        assert document.number in html
    assert invoices["other"].number not in html
    assert "Overdue" in html
    # Outstanding: two issued invoices of 1,190.00; overdue: the October one.
    assert "$2,380.00" in html
    assert "1 open invoice past due" in html
    assert f"?client={buyer.pk}&amp;overdue=1" in html


def test_the_client_page_costs_the_same_queries_with_many_documents(
    login: Login, owner: Membership, agency: Agency, buyer: Client, deal: Deal
) -> None:
    http = login(owner)
    url = reverse("crm:client_detail", args=[buyer.pk])
    bulk_invoices(agency, buyer, deal, 2)
    few = queries_for(http, url)
    bulk_estimates(agency, buyer, 100)
    bulk_invoices(agency, buyer, deal, 100, start=2)
    html = page(http.get(url))
    assert queries_for(http, url) == few
    assert "most recent documents" in html


def test_the_deal_page_lists_only_the_deals_documents(
    login: Login, viewer: Membership, invoices: dict[str, Invoice], deal: Deal
) -> None:
    html = page(login(viewer).get(reverse("crm:deal_detail", args=[deal.pk])))
    assert invoices["due_today"].number in html
    assert invoices["past_due"].number not in html
    assert f"{reverse('billing:invoice_list')}?deal={deal.pk}" in html


def test_the_overdue_amount_is_summed_in_the_agency_calendar(
    login: Login,
    viewer: Membership,
    draft_invoice: Callable[..., Invoice],
    buyer: Client,
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    invoice_issue(invoice=draft_invoice(), actor=None, due_date=TODAY)
    frozen_now(NOW + dt.timedelta(days=1))
    html = page(login(viewer).get(reverse("crm:client_detail", args=[buyer.pk])))
    assert "1 open invoice past due" in html
