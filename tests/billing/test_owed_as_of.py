"""What clients and deals owe, kept on their rows: each balance move moves it, and the
day-turn sweep (`overdue_days_turn`) adds to the overdue part what came due since the
agency's stored date, a missed day too. Until the sweep has turned the agency's day, the
lists sum the invoices instead, so they are never a day behind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.billing.models import OverdueAsOf
from clientledger.billing.services.rollups import overdue_advance, overdue_days_turn
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_list_page, deal_list_page
from tests.factories import ClientFactory, DealFactory
from tests.reporting.conftest import (
    Clock,
    clock_at,
    invoice_issued,
    invoice_voided,
    payment_made,
)

__all__ = ["clock_at"]  # the fixture these tests move the clock with

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)


def owed(row: Client | Deal) -> tuple[int, int]:
    row.refresh_from_db(fields=["owed_open_minor", "owed_overdue_minor"])
    return row.owed_open_minor, row.owed_overdue_minor


def as_of(agency: Agency) -> dt.date | None:
    return OverdueAsOf.objects.filter(agency=agency).values_list("as_of", flat=True).first()


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme", currency="USD")


@pytest.fixture
def website(buyer: Client) -> Deal:
    return DealFactory(agency=buyer.agency, client=buyer, title="Website")


def day_turned(clock_at: Clock, day: dt.date) -> None:
    clock_at.set(day)
    overdue_days_turn(as_of=clock_at.moment)


def test_each_day_turned_adds_what_came_due_and_a_missed_day_adds_all_of_it(
    agency: Agency, buyer: Client, website: Deal, clock_at: Clock
) -> None:
    day_turned(clock_at, MONDAY)
    invoice_issued(buyer, "100.00", on=MONDAY, due=MONDAY + dt.timedelta(days=1), deal=website)
    invoice_issued(buyer, "40.00", on=MONDAY, due=MONDAY + dt.timedelta(days=2))
    assert (owed(buyer), owed(website)) == ((14000, 0), (10000, 0))

    day_turned(clock_at, MONDAY + dt.timedelta(days=2))  # due Tuesday: late on Wednesday

    assert as_of(agency) == MONDAY + dt.timedelta(days=2)
    assert (owed(buyer), owed(website)) == ((14000, 10000), (10000, 10000))

    # Thursday's sweep missed: Friday's adds what came due on Thursday.
    day_turned(clock_at, MONDAY + dt.timedelta(days=4))

    assert (owed(buyer), owed(website)) == ((14000, 14000), (10000, 10000))


def test_a_payment_of_a_late_invoice_lowers_the_overdue_part_at_once(
    agency: Agency, buyer: Client, website: Deal, clock_at: Clock
) -> None:
    clock_at.set(MONDAY)
    late = invoice_issued(buyer, "100.00", on=MONDAY, due=MONDAY, deal=website)
    invoice_issued(buyer, "40.00", on=MONDAY, due=MONDAY + dt.timedelta(days=30))
    day_turned(clock_at, MONDAY + dt.timedelta(days=3))

    payment_made(buyer, "60.00", on=MONDAY + dt.timedelta(days=3), to=late)

    assert (owed(buyer), owed(website)) == ((8000, 4000), (4000, 4000))


def test_an_agency_moved_west_counts_again_as_not_due_what_is_due_today(
    agency: Agency, buyer: Client, clock_at: Clock
) -> None:
    clock_at.set(MONDAY)
    invoice_issued(buyer, "100.00", on=MONDAY, due=MONDAY + dt.timedelta(days=1))
    overdue_advance(agency, MONDAY + dt.timedelta(days=2))
    assert owed(buyer) == (10000, 10000)

    overdue_advance(agency, MONDAY + dt.timedelta(days=1))

    assert (as_of(agency), owed(buyer)) == (MONDAY + dt.timedelta(days=1), (10000, 0))


def test_an_agency_without_a_date_yet_counts_every_late_invoice_when_its_day_first_turns(
    agency: Agency, buyer: Client, clock_at: Clock
) -> None:
    clock_at.set(MONDAY)
    invoice_issued(
        buyer, "100.00", on=MONDAY - dt.timedelta(days=20), due=MONDAY - dt.timedelta(days=9)
    )
    assert (as_of(agency), owed(buyer)) == (None, (10000, 0))

    day_turned(clock_at, MONDAY)

    assert owed(buyer) == (10000, 10000)


def test_until_the_day_is_turned_the_lists_sum_the_invoices_with_as_many_queries(
    agency: Agency, buyer: Client, website: Deal, clock_at: Clock
) -> None:
    day_turned(clock_at, MONDAY)
    invoice_issued(buyer, "100.00", on=MONDAY, due=MONDAY + dt.timedelta(days=1), deal=website)
    clock_at.set(MONDAY + dt.timedelta(days=5))  # the sweep has not run since Monday

    def listed() -> tuple[list[tuple[str, int, int]], int]:
        with CaptureQueriesContext(connection) as queries:
            clients = client_list_page(agency=agency, sort="overdue", has_overdue=True).page
            deals = deal_list_page(agency=agency, sort="overdue", has_overdue=True).page
        rows = [
            (row.name, row.outstanding_minor, row.overdue_minor)  # type: ignore[attr-defined]
            for row in clients
        ] + [
            (row.title, row.outstanding_minor, row.overdue_minor)  # type: ignore[attr-defined]
            for row in deals
        ]
        return rows, len(queries)

    summed, summing_queries = listed()
    overdue_days_turn(as_of=clock_at.moment)
    stored, stored_queries = listed()

    assert summed == stored == [("Acme", 10000, 10000), ("Website", 10000, 10000)]
    assert summing_queries == stored_queries


def test_the_sweep_turns_each_agency_on_its_own_date(
    agency: Agency, buyer: Client, clock_at: Clock
) -> None:
    agency.timezone = "Pacific/Auckland"  # UTC+13 in March: a day ahead at noon UTC
    agency.save(update_fields=["timezone"])
    clock_at.set(MONDAY)
    invoice_issued(buyer, "100.00", on=MONDAY, due=MONDAY)

    overdue_days_turn(as_of=clock_at.moment)

    assert (as_of(agency), owed(buyer)) == (MONDAY + dt.timedelta(days=1), (10000, 10000))
    assert overdue_days_turn(as_of=clock_at.moment) == {}


def test_a_voided_invoice_leaves_what_its_client_owes(
    agency: Agency, buyer: Client, clock_at: Clock
) -> None:
    clock_at.set(MONDAY)
    invoice = invoice_issued(
        buyer, "100.00", on=MONDAY - dt.timedelta(days=5), due=MONDAY - dt.timedelta(days=1)
    )
    day_turned(clock_at, MONDAY)
    assert owed(buyer) == (10000, 10000)

    invoice_voided(invoice)

    assert owed(buyer) == (0, 0)
