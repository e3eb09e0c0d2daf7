"""Reading schedules: lists, the next invoice and MRR, the preview and the invoices a
schedule made with their payment states, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import Invoice
from clientledger.billing.services.drafts import document_delete, invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client, Deal
from clientledger.payments.models import PaymentMethod
from clientledger.payments.services.manual import payment_record_manual
from clientledger.recurring.models import IntervalUnit, RecurringPeriod, RecurringSchedule
from clientledger.recurring.selectors import (
    PaymentState,
    billing_runs_recent,
    client_schedules,
    deal_schedules,
    schedule_failure,
    schedule_invoices_page,
    schedule_lines_data,
    schedule_list_page,
    schedule_overview,
    schedule_preview,
    schedules_failing,
)
from clientledger.recurring.services import schedule_create, schedule_pause
from clientledger.recurring.services.billing_run import billing_run, billing_run_sweep_chunk
from tests.factories import ClientFactory
from tests.recurring.conftest import NOW, TODAY, line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None], settings: Any, tmp_path: Path) -> None:
    """Every test here runs on 2026-11-24 and stores issued PDFs in a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_schedule(
    buyer: Client, owner: Membership, vat: TaxRate
) -> Callable[..., RecurringSchedule]:
    """A monthly schedule of `buyer` from 1 December: 650.00 plus 20 % VAT by default."""

    def make(**fields: Any) -> RecurringSchedule:
        fields.setdefault("client", buyer)
        fields.setdefault("name", "SEO retainer")
        fields.setdefault("lines", [line(taxes=[vat])])
        fields.setdefault("start_date", dt.date(2026, 12, 1))
        return schedule_create(agency=buyer.agency, actor=owner.user, **fields)

    return make


def test_the_list_shows_the_agencys_schedules_found_by_name_or_client(
    agency: Agency, make_schedule: Callable[..., RecurringSchedule], outsider: Membership
) -> None:
    make_schedule(name="SEO retainer")
    make_schedule(name="Hosting", client=ClientFactory.create(agency=agency, name="Globex"))
    foreign_client = ClientFactory.create(agency=outsider.agency, name="Globex Rival")
    schedule_create(
        agency=outsider.agency,
        actor=outsider.user,
        client=foreign_client,
        name="Foreign",
        lines=[line()],
        start_date=dt.date(2026, 12, 1),
    )

    everything = schedule_list_page(agency=agency)
    found = schedule_list_page(agency=agency, search="globex")

    assert [s.name for s in everything.page] == ["Hosting", "SEO retainer"]
    assert [s.schedule.name for s in found.summaries] == ["Hosting"]


def test_a_page_of_schedules_costs_two_queries_whatever_it_holds(
    agency: Agency,
    make_schedule: Callable[..., RecurringSchedule],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for number in range(5):
        make_schedule(name=f"Retainer {number}", lines=[line(), line("Reporting")])
    agency.refresh_from_db()

    with django_assert_num_queries(2):
        listed = schedule_list_page(agency=agency)
        amounts = [summary.next_amount for summary in listed.summaries]

    assert amounts == [Decimal("1300.00")] * 5


def test_the_next_invoice_is_the_start_and_its_amount_the_lines_with_todays_taxes(
    make_schedule: Callable[..., RecurringSchedule], buyer: Client
) -> None:
    make_schedule(interval_count=3)
    [summary] = client_schedules(agency=buyer.agency, client=buyer).summaries

    assert summary.next_invoice_date == dt.date(2026, 12, 1)
    assert summary.next_amount == Decimal("780.00")
    assert summary.monthly_recurring == Decimal("216.67")

    buyer.tax_exempt = True
    buyer.save()
    [exempt] = client_schedules(agency=buyer.agency, client=buyer).summaries
    assert exempt.next_amount == Decimal("650.00")


@pytest.mark.parametrize(
    ("unit", "count", "monthly"),
    [
        (IntervalUnit.MONTH, 1, "650.00"),
        (IntervalUnit.MONTH, 12, "54.17"),
        (IntervalUnit.WEEK, 2, "1408.33"),
    ],
)
def test_the_mrr_contribution_is_the_net_per_month(
    make_schedule: Callable[..., RecurringSchedule],
    won_deal: Deal,
    unit: str,
    count: int,
    monthly: str,
) -> None:
    make_schedule(deal=won_deal, interval_unit=unit, interval_count=count)

    record = deal_schedules(agency=won_deal.agency, deal=won_deal)

    assert record.monthly_recurring == Decimal(monthly)


def test_a_paused_schedule_contributes_no_mrr_and_previews_from_today(
    make_schedule: Callable[..., RecurringSchedule], owner: Membership, buyer: Client
) -> None:
    schedule = make_schedule(start_date=dt.date(2026, 9, 15))
    schedule_pause(schedule=schedule, actor=owner.user)

    [summary] = client_schedules(agency=buyer.agency, client=buyer).summaries

    assert summary.monthly_recurring is None
    assert summary.next_invoice_date == dt.date(2026, 12, 15)
    schedule.refresh_from_db()
    assert schedule_preview(schedule=schedule)[0].invoice_date == dt.date(2026, 12, 15)


def test_the_preview_shows_the_next_12_invoices_before_and_after_an_edit(
    make_schedule: Callable[..., RecurringSchedule], vat: TaxRate
) -> None:
    schedule = make_schedule(start_date=dt.date(2027, 1, 31), payment_terms_days=14)

    before = schedule_preview(schedule=schedule)
    after = schedule_preview(schedule=schedule, lines=[line(unit_price="700.00", taxes=[vat])])

    assert [row.invoice_date for row in before][:4] == [
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
    ]
    assert len(before) == 12
    assert before[-1].invoice_date == dt.date(2027, 12, 31)
    assert before[1].due_date == dt.date(2027, 3, 14)
    assert {row.total for row in before} == {Decimal("780.00")}
    assert {row.total for row in after} == {Decimal("840.00")}


def issued(schedule: RecurringSchedule, index: int, *, due: dt.date) -> Invoice:
    """Invoice `index` of the schedule, issued and due on `due`, recorded as its period."""
    invoice = invoice_create(
        agency=schedule.agency, actor=None, client=schedule.client, lines=[line()]
    )
    invoice = invoice_issue(invoice=invoice, actor=None, issue_date=due, due_date=due)
    billed(schedule, index, invoice)
    return invoice


def billed(schedule: RecurringSchedule, index: int, invoice: Invoice | None) -> None:
    start = dt.date(2026, 1 + index, 1)
    RecurringPeriod.objects.create(
        agency=schedule.agency,
        schedule=schedule,
        period_index=index,
        start_date=start,
        end_date=dt.date(2026, 2 + index, 1) - dt.timedelta(days=1),
        invoice=invoice,
    )


def pay(invoice: Invoice, amount: str) -> None:
    payment_record_manual(
        agency=invoice.agency,
        actor=None,
        client=invoice.client,
        amount=Decimal(amount),
        currency=invoice.currency,
        received_on=TODAY,
        method=PaymentMethod.BANK_TRANSFER,
        allocations=[(invoice, Decimal(amount))],
    )


def test_a_schedules_invoices_show_their_payment_state_in_one_query(
    make_schedule: Callable[..., RecurringSchedule],
    agency: Agency,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    schedule = make_schedule(start_date=dt.date(2026, 1, 1))
    pay(issued(schedule, 0, due=dt.date(2026, 2, 1)), "650.00")
    pay(issued(schedule, 1, due=dt.date(2026, 12, 10)), "100.00")
    issued(schedule, 2, due=dt.date(2026, 11, 1))
    issued(schedule, 3, due=dt.date(2026, 12, 1))
    draft = invoice_create(agency=agency, actor=None, client=schedule.client, lines=[line()])
    billed(schedule, 4, draft)
    deleted = invoice_create(agency=agency, actor=None, client=schedule.client, lines=[line()])
    billed(schedule, 5, deleted)
    document_delete(document=deleted, actor=None)

    with django_assert_num_queries(1):
        listed = schedule_invoices_page(agency=agency, schedule=schedule)
        states = [(row.period.period_index, row.state) for row in listed.rows]

    assert states == [
        (5, PaymentState.NOT_BILLED),
        (4, PaymentState.DRAFT),
        (3, PaymentState.OPEN),
        (2, PaymentState.OVERDUE),
        (1, PaymentState.PARTIALLY_PAID),
        (0, PaymentState.PAID),
    ]


def test_a_schedules_page_reads_everything_in_six_queries(
    make_schedule: Callable[..., RecurringSchedule],
    agency: Agency,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    schedule = make_schedule(start_date=dt.date(2026, 1, 1), lines=[line(), line("Reporting")])
    issued(schedule, 0, due=dt.date(2026, 2, 1))
    agency.refresh_from_db()

    with django_assert_num_queries(6):
        overview = schedule_overview(agency=agency, pk=schedule.pk)

    assert overview.summary.next_amount == Decimal("1300.00")
    assert [row.state for row in overview.invoices] == [PaymentState.OVERDUE]
    assert (overview.invoice_count, overview.has_more_invoices) == (1, False)
    assert len(overview.preview) == 12
    assert [entry.sentence for entry in overview.timeline] == [
        "created recurring schedule “SEO retainer”"
    ]


def test_a_schedules_lines_are_what_its_next_invoice_is_made_of(
    make_schedule: Callable[..., RecurringSchedule], vat: TaxRate
) -> None:
    schedule = make_schedule(lines=[line(taxes=[vat]), line("Reporting", unit_price="90.00")])

    lines = schedule_lines_data(schedule)

    assert [(data.description, data.unit_price, data.taxes) for data in lines] == [
        ("SEO retainer", Decimal("650.0000"), [vat]),
        ("Reporting", Decimal("90.0000"), []),
    ]


def test_the_last_billing_runs_show_only_the_agencys_failures_in_two_queries(
    agency: Agency,
    make_schedule: Callable[..., RecurringSchedule],
    outsider: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    silent = ClientFactory.create(agency=agency, currency="USD", billing_email="")
    failing = make_schedule(
        client=silent, start_date=dt.date(2026, 11, 1), on_period="issue_and_send"
    )
    theirs = ClientFactory.create(agency=outsider.agency, currency="USD", billing_email="")
    schedule_create(
        agency=outsider.agency,
        actor=outsider.user,
        client=theirs,
        name="Foreign",
        lines=[line()],
        start_date=dt.date(2026, 11, 1),
        on_period="issue_and_send",
    )
    billing_run(as_of=NOW)
    billing_run(as_of=NOW, agency=agency)

    with django_assert_num_queries(2):
        own, shared = billing_runs_recent(agency=agency)

    assert (own.is_own, shared.is_own) == (True, False)
    assert [failure.schedule for failure in own.failures + shared.failures] == [failing, failing]
    assert schedule_failure(agency=agency, schedule=failing) == own.failures[0]
    assert schedules_failing(agency=agency, schedules=[failing]) == {
        failing.pk: own.failures[0].reason
    }


def test_a_schedule_billed_after_failing_is_no_longer_failing(
    agency: Agency, make_schedule: Callable[..., RecurringSchedule]
) -> None:
    silent = ClientFactory.create(agency=agency, currency="USD", billing_email="")
    failing = make_schedule(
        client=silent, start_date=dt.date(2026, 11, 1), on_period="issue_and_send"
    )
    billing_run(as_of=NOW)
    silent.billing_email = "ap@silent.example"
    silent.save()
    billing_run(as_of=NOW)
    failing.refresh_from_db()

    assert schedule_failure(agency=agency, schedule=failing) is None
    assert schedules_failing(agency=agency, schedules=[failing]) == {}


def test_a_background_chunk_is_recorded_as_a_run_of_its_agency(
    agency: Agency, make_schedule: Callable[..., RecurringSchedule]
) -> None:
    schedule = make_schedule(start_date=dt.date(2026, 11, 1), on_period="issue")

    billing_run_sweep_chunk(ids=[schedule.pk], as_of=NOW)

    [row] = billing_runs_recent(agency=agency)
    assert (row.run.agency, row.run.invoices_created) == (agency, 1)
