"""The dashboard's money section and the reports: who sees what, the currency switch, the
aging drill-down, the CSV exports and constant query counts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.recurring.services import schedule_create
from tests.factories import ClientFactory
from tests.reporting.conftest import Clock, invoice_issued, payment_made

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture
def acme(agency: Agency, clock_at: Clock) -> Client:
    """Owes 500.00 due in 10 days, 300.00 forty days late, and paid 100.00 of 400.00 two
    weeks late; a EUR client owes 900.00 not yet due."""
    client = ClientFactory(agency=agency, name="Acme", currency="USD")
    clock_at.set(day(-70))
    invoice_issued(client, "300.00", on=day(-70), due=day(-40))
    clock_at.set(day(-44))
    late = invoice_issued(client, "400.00", on=day(-44), due=day(-14))
    clock_at.set(day(-5))
    payment_made(client, "100.00", on=day(-5), to=late)
    invoice_issued(client, "500.00", on=day(-5), due=day(10))
    euro = ClientFactory(agency=agency, name="Euro GmbH", currency="EUR")
    invoice_issued(euro, "900.00", on=day(-5), due=day(25))
    clock_at.set(TODAY)
    return client


@pytest.mark.parametrize("role", ["owner", "admin", "finance"])
def test_leadership_sees_receivables_aging_dso_mrr_and_revenue(
    role: str,
    request: pytest.FixtureRequest,
    acme: Client,
    login: Callable[[Membership], HttpClient],
) -> None:
    member: Membership = request.getfixturevalue(role)

    response = login(member).get(reverse("home"))

    money = response.context["money"]
    assert money.currency == "USD"
    assert money.currencies == ["USD", "EUR"]
    assert money.receivables.outstanding == Decimal("1100.00")
    assert money.receivables.overdue == Decimal("600.00")
    assert money.receivables.due_soon == Decimal("500.00")
    assert money.leadership is not None
    page = response.content.decode()
    assert "Days sales outstanding" in page
    assert "credit sales of the 90 days" in page
    charts = json.loads(
        page.split('id="dashboard-charts" type="application/json">')[1].split("<")[0]
    )
    assert charts["aging"]["amounts"] == ["500.00", "300.00", "300.00", "0.00", "0.00"]
    # No retainer: the MRR card says what will appear instead of drawing an empty chart.
    assert set(charts) == {"currency", "aging", "dso", "revenue"}


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_sales_and_viewers_see_the_receivables_of_every_client_but_no_revenue(
    role: str,
    request: pytest.FixtureRequest,
    acme: Client,
    login: Callable[[Membership], HttpClient],
) -> None:
    member: Membership = request.getfixturevalue(role)

    response = login(member).get(reverse("home"))

    money = response.context["money"]
    assert money.receivables.outstanding == Decimal("1100.00")
    assert money.leadership is None
    page = response.content.decode()
    assert "Invoice aging" in page
    assert "Days sales outstanding" not in page
    assert "Monthly recurring revenue" not in page


def test_the_currency_switch_shows_each_currency_alone(
    owner: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).get(reverse("home"), {"currency": "EUR"})

    money = response.context["money"]
    assert money.currency == "EUR"
    assert money.receivables.outstanding == Decimal("900.00")
    assert [row.client_name for row in money.top_outstanding] == ["Euro GmbH"]


def test_an_empty_agency_is_told_what_the_figures_will_show(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    ClientFactory(agency=owner.agency)

    page = login(owner).get(reverse("home")).content.decode()

    assert "Issued invoices not yet paid will appear here" in page
    assert "Active recurring schedules add up to MRR here" in page
    assert "What you invoice and collect each month will be charted here" in page


def test_the_dashboard_reads_the_same_number_of_queries_however_much_there_is(
    owner: Membership, agency: Agency, clock_at: Clock, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)
    first = ClientFactory(agency=agency, currency="USD")
    clock_at.set(day(-3))
    invoice_issued(first, "10.00", on=day(-3), due=day(4))
    clock_at.set(TODAY)
    http.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        http.get(reverse("home"))
    for index in range(6):
        client = ClientFactory(agency=agency, currency="USD" if index % 2 else "EUR")
        clock_at.set(day(-40 - index))
        invoice = invoice_issued(client, "120.00", on=day(-40 - index), due=day(-20 - index))
        payment_made(client, "20.00", on=day(-40 - index), to=invoice)
        schedule_create(
            agency=agency,
            actor=None,
            client=client,
            name=f"Retainer {index}",
            start_date=day(-60),
            lines=[LineData(description="Care", quantity=Decimal(1), unit_price=Decimal(90))],
        )
    clock_at.set(TODAY)
    with CaptureQueriesContext(connection) as many:
        http.get(reverse("home"))

    assert len(many) == len(few)


def test_an_aging_bucket_drills_down_to_its_invoices(
    finance: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(finance).get(
        reverse("reporting:aging_invoices"), {"currency": "USD", "bucket": "31-60"}
    )

    invoices = list(response.context["page"])
    assert [(invoice.total_minor, invoice.owed) for invoice in invoices] == [(30000, 30000)]


def test_the_aging_as_of_a_past_day_shows_what_was_owed_then(
    viewer: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(viewer).get(
        reverse("reporting:aging"), {"currency": "USD", "as_of": day(-6).isoformat()}
    )

    summary = response.context["summary"]
    assert summary.total == Decimal("700.00")
    assert {entry.bucket.key: entry.amount for entry in summary.buckets}["1-30"] == Decimal(
        "400.00"
    )


def test_the_aging_refuses_a_future_day_and_an_unknown_currency(
    viewer: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(viewer).get(
        reverse("reporting:aging"), {"currency": "XYZ", "as_of": day(1).isoformat()}
    )

    form = response.context["form"]
    assert form.errors["as_of"] == ["Choose today or a past day: the future is not known yet."]
    assert "not an ISO 4217 currency code" in form.errors["currency"][0]
    assert response.context["as_of"] == TODAY
    assert response.context["currency"] == "USD"


def test_the_aging_exports_by_client_and_by_invoice(
    finance: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(finance)

    by_client = b"".join(
        http.get(reverse("reporting:aging_csv"), {"currency": "USD"}).streaming_content  # type: ignore[attr-defined]
    ).decode("utf-8-sig")
    by_invoice = b"".join(
        http.get(
            reverse("reporting:aging_csv"), {"currency": "USD", "detail": "invoices"}
        ).streaming_content  # type: ignore[attr-defined]
    ).decode("utf-8-sig")

    assert by_client.splitlines() == [
        "Client,Currency,Current,1-30 days,31-60 days,61-90 days,Over 90 days,Total",
        "Acme,USD,500.00,300.00,300.00,0.00,0.00,1100.00",
    ]
    rows = by_invoice.splitlines()
    assert rows[0] == "Invoice,Client,Issued,Due,Days past due,Bucket,Total,Owed,Currency"
    assert [row.split(",")[4:8] for row in rows[1:]] == [
        ["40", "31-60 days", "300.00", "300.00"],
        ["14", "1-30 days", "400.00", "300.00"],
        ["0", "Current", "500.00", "500.00"],
    ]


def test_revenue_and_mrr_reports_and_exports_render(
    owner: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)

    revenue = http.get(reverse("reporting:revenue"), {"currency": "USD"})
    months = b"".join(
        http.get(reverse("reporting:revenue_csv")).streaming_content  # type: ignore[attr-defined]
    ).decode("utf-8-sig")
    mrr = http.get(reverse("reporting:mrr"))
    schedules = b"".join(
        http.get(reverse("reporting:mrr_csv")).streaming_content  # type: ignore[attr-defined]
    ).decode("utf-8-sig")

    assert revenue.context["revenue"].invoiced == Decimal("1200.00")
    assert revenue.context["revenue"].collected == Decimal("100.00")
    assert [row.client_name for row in revenue.context["clients"]] == ["Acme"]
    assert "2026-06,USD,500.00,100.00" in months
    assert "2026-06,EUR,900.00,0.00" in months
    assert mrr.status_code == 200
    assert schedules.splitlines()[0] == "Schedule,Client,Currency,Frequency,Net per period,MRR"


def test_a_clients_ledger_exports_each_entry_with_the_balance_after_it(
    viewer: Membership, acme: Client, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(viewer).get(reverse("reporting:client_ledger_csv", args=[acme.pk]))

    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()  # type: ignore[attr-defined]
    assert rows[0] == "Posted,Entry,Reference,Amount,Balance,Currency"
    entries = [row.split(",") for row in rows[1:]]
    assert [(entry[1], entry[3], entry[4]) for entry in entries] == [
        ("Invoice issued", "300.00", "300.00"),
        ("Invoice issued", "400.00", "700.00"),
        ("Payment received", "-100.00", "600.00"),
        ("Invoice issued", "500.00", "1100.00"),
    ]
