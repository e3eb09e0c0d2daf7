"""The dashboard's figures through the API: aging, DSO, MRR and revenue as of a day and in a
currency, the same numbers the pages show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from clientledger.accounts.models import Agency, Membership
from tests.api.conftest import ApiClient
from tests.factories import ClientFactory
from tests.reporting.conftest import Clock, clock_at, invoice_issued, payment_made

__all__ = ["clock_at"]  # the fixture these tests move the clock with

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)


@pytest.fixture
def history(agency: Agency, clock_at: Clock) -> None:
    """300.00 issued 15 April due 15 May, 100.00 of it paid 20 June; 80.00 EUR not yet due."""
    client = ClientFactory(agency=agency, name="Acme", currency="USD")
    clock_at.set(dt.date(2026, 4, 15))
    invoice = invoice_issued(client, "300.00", on=dt.date(2026, 4, 15), due=dt.date(2026, 5, 15))
    clock_at.set(dt.date(2026, 6, 20))
    payment_made(client, "100.00", on=dt.date(2026, 6, 20), to=invoice)
    euro = ClientFactory(agency=agency, name="Euro", currency="EUR")
    invoice_issued(euro, "80.00", on=dt.date(2026, 6, 20), due=dt.date(2026, 7, 20))
    clock_at.set(TODAY)


def test_the_aging_today_and_as_of_a_past_day(
    finance: Membership, history: None, api_as: Callable[[Membership], ApiClient]
) -> None:
    api = api_as(finance)

    today = api.get("/reports/aging").json()
    before_payment = api.get("/reports/aging", as_of="2026-06-19", currency="USD").json()
    euro = api.get("/reports/aging", currency="eur").json()

    assert today["total"] == "200.00"
    assert [b["amount"] for b in today["buckets"]] == ["0.00", "0.00", "200.00", "0.00", "0.00"]
    assert today["clients"][0]["client_name"] == "Acme"
    assert before_payment["total"] == "300.00"
    assert [b["key"] for b in before_payment["buckets"] if b["amount"] != "0.00"] == ["31-60"]
    assert euro["currency"] == "EUR"
    assert euro["total"] == "80.00"


def test_dso_revenue_and_mrr_answer_per_currency(
    owner: Membership, history: None, api_as: Callable[[Membership], ApiClient]
) -> None:
    api = api_as(owner)

    dso = api.get("/reports/dso", currency="USD").json()
    revenue = api.get("/reports/revenue", as_of="2026-06-30").json()
    mrr = api.get("/reports/mrr").json()

    assert dso["definition"].startswith("DSO = receivables")
    assert dso["points"][-1] == {
        "as_of": "2026-06-30",
        "receivables": "200.00",
        "credit_sales": "300.00",
        "days": "60.0",
    }
    assert len(revenue["months"]) == 12
    assert revenue["months"][-1] == {
        "month": "2026-06-01",
        "invoiced": "0.00",
        "collected": "100.00",
    }
    assert revenue["months"][-3]["invoiced"] == "300.00"
    assert mrr == {"currency": "USD", "points": [], "schedules": []}


def test_a_future_day_and_an_unknown_currency_are_refused(
    owner: Membership, history: None, api_as: Callable[[Membership], ApiClient]
) -> None:
    api = api_as(owner)

    future = api.get("/reports/aging", as_of="2026-07-01")
    unknown = api.get("/reports/dso", currency="ABC")

    assert future.status_code == 422
    assert future.json()["detail"][0]["field"] == "as_of"
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["field"] == "currency"


@pytest.mark.parametrize(
    "path", ["/reports/aging", "/reports/dso", "/reports/mrr", "/reports/revenue"]
)
def test_a_day_given_as_a_number_is_not_read_as_1970(
    owner: Membership, api_as: Callable[[Membership], ApiClient], path: str
) -> None:
    answer = api_as(owner).get(path, as_of="0")

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "as_of"


def test_sales_read_the_aging_but_not_revenue(
    sales: Membership, history: None, api_as: Callable[[Membership], ApiClient]
) -> None:
    api = api_as(sales)

    assert api.get("/reports/aging").status_code == 200
    assert api.get("/reports/revenue").status_code == 403
