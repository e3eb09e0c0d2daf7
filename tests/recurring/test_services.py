"""Writing schedules: from lines or a won deal, edited for the periods to come, paused,
resumed and ended; bad input refused with its reason and nothing half-saved."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency, Membership
from clientledger.catalog.models import TaxRate, UnitType
from clientledger.core.error_codes import ErrorCode
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.crm.services import client_delete, client_update
from clientledger.lines.choices import Recurrence
from clientledger.lines.data import LinesInvalid
from clientledger.recurring.audit_verbs import ScheduleVerb
from clientledger.recurring.calculations import periods_from, schedule_timing
from clientledger.recurring.models import (
    IntervalUnit,
    PeriodAction,
    RecurringPeriod,
    RecurringSchedule,
    RecurringScheduleLine,
    ScheduleEnd,
    ScheduleStatus,
)
from clientledger.recurring.services import (
    schedule_create,
    schedule_create_from_deal,
    schedule_end,
    schedule_lines_replace,
    schedule_pause,
    schedule_resume,
    schedule_update,
)
from tests.factories import ClientFactory, DealLineFactory, ServiceFactory
from tests.recurring.conftest import line

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 31)


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None]) -> None:
    """Every test here runs on 2026-11-24 (UTC, the agency's time zone)."""


@pytest.fixture
def schedule(buyer: Client, owner: Membership, vat: TaxRate) -> RecurringSchedule:
    return schedule_create(
        agency=buyer.agency,
        actor=owner.user,
        client=buyer,
        name="SEO retainer",
        lines=[line(taxes=[vat])],
        start_date=START,
    )


def bill_periods(schedule: RecurringSchedule, count: int) -> None:
    """What the billing run records for the schedule's next `count` periods (no invoices)."""
    periods = list(
        itertools.islice(periods_from(schedule_timing(schedule), schedule.next_period_index), count)
    )
    RecurringPeriod.objects.bulk_create(
        RecurringPeriod(
            agency=schedule.agency,
            schedule=schedule,
            period_index=period.index,
            start_date=period.start,
            end_date=period.end,
        )
        for period in periods
    )
    schedule.next_period_index = periods[-1].index + 1
    schedule.next_period_start = periods[-1].end + dt.timedelta(days=1)
    schedule.save()


def nothing_saved() -> bool:
    return not (
        RecurringSchedule.objects.exists()
        or RecurringScheduleLine.objects.exists()
        or AuditEvent.objects.filter(subject_type="recurring.recurringschedule").exists()
    )


# --- creating -----------------------------------------------------------------------------


def test_a_schedule_from_lines_is_active_with_its_lines_and_its_first_period_due_on_the_start(
    schedule: RecurringSchedule, vat: TaxRate
) -> None:
    assert schedule.status == ScheduleStatus.ACTIVE
    assert schedule.currency == "USD"
    assert (schedule.interval_unit, schedule.interval_count) == (IntervalUnit.MONTH, 1)
    assert schedule.on_period == PeriodAction.DRAFT
    assert (schedule.next_period_index, schedule.next_period_start) == (0, START)
    [stored] = schedule.lines.all()
    assert (stored.description, stored.unit_price, stored.tax_1) == (
        "SEO retainer",
        Decimal("650.0000"),
        vat,
    )
    event = AuditEvent.objects.get(verb=ScheduleVerb.CREATED)
    assert (event.client_id, event.data["lines"]) == (schedule.client_id, 1)


def test_a_won_deal_prefills_a_schedule_with_its_recurring_lines_only(
    won_deal: Deal, owner: Membership
) -> None:
    DealLineFactory.create(
        deal=won_deal, description="SEO", unit=UnitType.MONTH, recurrence=Recurrence.QUARTERLY
    )
    DealLineFactory.create(deal=won_deal, description="Kick-off workshop")

    schedule = schedule_create_from_deal(
        deal=won_deal, actor=owner.user, start_date=dt.date(2026, 12, 1)
    )

    assert (schedule.name, schedule.deal, schedule.client) == ("SEO", won_deal, won_deal.client)
    assert (schedule.interval_unit, schedule.interval_count) == (IntervalUnit.MONTH, 3)
    assert [stored.description for stored in schedule.lines.all()] == ["SEO"]


@pytest.mark.parametrize(
    ("recurrence", "months"),
    [(Recurrence.MONTHLY, 1), (Recurrence.QUARTERLY, 3), (Recurrence.YEARLY, 12)],
)
def test_a_deal_with_mixed_recurrences_needs_a_choice_and_bills_the_chosen_lines(
    won_deal: Deal, owner: Membership, recurrence: str, months: int
) -> None:
    for each in (Recurrence.MONTHLY, Recurrence.QUARTERLY, Recurrence.YEARLY):
        DealLineFactory.create(deal=won_deal, description=f"Care {each}", recurrence=each)
    with pytest.raises(ValidationError, match="billed monthly and quarterly and yearly"):
        schedule_create_from_deal(deal=won_deal, actor=owner.user, start_date=dt.date(2026, 12, 1))

    schedule = schedule_create_from_deal(
        deal=won_deal, actor=owner.user, start_date=dt.date(2026, 12, 1), recurrence=recurrence
    )

    assert schedule.interval_count == months
    assert [stored.description for stored in schedule.lines.all()] == [f"Care {recurrence}"]


def test_a_deal_without_recurring_lines_or_not_won_sets_up_no_schedule(
    won_deal: Deal, owner: Membership
) -> None:
    DealLineFactory.create(deal=won_deal, description="Kick-off workshop")
    with pytest.raises(ValidationError, match="no recurring lines"):
        schedule_create_from_deal(deal=won_deal, actor=owner.user, start_date=dt.date(2026, 12, 1))
    won_deal.stage = DealStage.PROPOSAL
    won_deal.save()
    with pytest.raises(ValidationError, match="once the deal is won"):
        schedule_create_from_deal(deal=won_deal, actor=owner.user, start_date=dt.date(2026, 12, 1))
    assert nothing_saved()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"interval_count": 0}, "interval_count", "The interval must be at least 1."),
        ({"interval_count": 121}, "interval_count", "Enter at most 120 months."),
        (
            {"end_kind": ScheduleEnd.ON_DATE, "end_date": dt.date(2026, 1, 30)},
            "end_date",
            "The end date must be on or after the start date.",
        ),
        ({"end_kind": ScheduleEnd.ON_DATE}, "end_date", "Enter the date the schedule ends."),
        (
            {"end_kind": ScheduleEnd.AFTER_COUNT, "end_after_count": 0},
            "end_after_count",
            "Enter a number of invoices of at least 1.",
        ),
        (
            {"currency": "EUR"},
            "currency",
            "Acme Corp is billed in USD; a schedule for this client bills in USD too, not EUR.",
        ),
        (
            {"recipients": ["ap@client.example", "not an address"]},
            "recipients",
            "“not an address” is not a valid email address.",
        ),
        ({"payment_terms_days": 400}, "payment_terms_days", None),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(
    buyer: Client, owner: Membership, fields: dict[str, object], field: str, message: str | None
) -> None:
    with pytest.raises(ValidationError) as refused:
        schedule_create(
            agency=buyer.agency,
            actor=owner.user,
            client=buyer,
            name="SEO retainer",
            lines=[line()],
            start_date=START,
            **fields,  # type: ignore[arg-type]
        )

    assert field in refused.value.message_dict
    if message is not None:
        assert refused.value.message_dict[field] == [message]
    assert nothing_saved()


def test_a_schedule_without_lines_is_refused(buyer: Client, owner: Membership) -> None:
    with pytest.raises(LinesInvalid) as refused:
        schedule_create(
            agency=buyer.agency,
            actor=owner.user,
            client=buyer,
            name="SEO retainer",
            lines=[],
            start_date=START,
        )

    assert refused.value.total_errors == ["Add at least one line: a schedule bills its lines."]
    assert nothing_saved()


def test_a_deal_line_naming_a_service_sold_in_another_currency_bills_at_the_deal_s_price(
    won_deal: Deal, owner: Membership
) -> None:
    euro_service = ServiceFactory.create(
        agency=won_deal.agency, name="Hosting", currency="EUR", default_unit_price=Decimal("99")
    )
    DealLineFactory.create(
        deal=won_deal,
        service=euro_service,
        description="Hosting",
        unit_price=Decimal("40"),
        recurrence=Recurrence.MONTHLY,
    )

    schedule = schedule_create_from_deal(
        deal=won_deal, actor=owner.user, start_date=dt.date(2026, 12, 1)
    )

    stored = schedule.lines.get()
    assert (schedule.currency, stored.service, stored.unit_price) == (
        "USD",
        euro_service,
        Decimal("40"),
    )


def test_a_client_or_deal_of_another_agency_is_refused(
    agency: Agency, owner: Membership, outsider: Membership
) -> None:
    stranger = ClientFactory.create(agency=outsider.agency)
    with pytest.raises(ValidationError, match="Choose a client of your agency"):
        schedule_create(
            agency=agency,
            actor=owner.user,
            client=stranger,
            name="SEO",
            lines=[line()],
            start_date=START,
        )
    assert nothing_saved()


# --- editing ------------------------------------------------------------------------------


def test_an_edit_is_audited_with_each_field_change(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    schedule_update(
        schedule=schedule,
        actor=owner.user,
        name="SEO and content",
        on_period=PeriodAction.ISSUE_AND_SEND,
        recipients=["AP@client.example"],
    )

    schedule.refresh_from_db()
    assert schedule.recipients == ["ap@client.example"]
    event = AuditEvent.objects.get(verb=ScheduleVerb.UPDATED)
    assert event.data["changes"] == {
        "name": {"from": "SEO retainer", "to": "SEO and content"},
        "on_period": {"from": "draft", "to": "issue_and_send"},
        "recipients": {"from": [], "to": ["ap@client.example"]},
    }


def test_an_edit_changing_nothing_records_nothing(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    schedule_update(schedule=schedule, actor=owner.user, name="SEO retainer")

    assert not AuditEvent.objects.filter(verb=ScheduleVerb.UPDATED).exists()


def test_a_new_frequency_before_any_billing_applies_from_the_start(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    updated = schedule_update(schedule=schedule, actor=owner.user, interval_count=3)

    assert (updated.start_date, updated.anchor_period_index) == (START, 0)
    assert updated.next_period_start == START


def test_a_new_frequency_applies_from_the_first_unbilled_period_and_keeps_the_billed_dates(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    bill_periods(schedule, 3)  # 31 Jan, 28 Feb, 31 Mar

    updated = schedule_update(schedule=schedule, actor=owner.user, interval_count=3)

    assert (updated.start_date, updated.anchor_period_index) == (dt.date(2026, 4, 30), 3)
    timing = schedule_timing(updated)
    assert [p.start for p in itertools.islice(periods_from(timing, 3), 3)] == [
        dt.date(2026, 4, 30),
        dt.date(2026, 7, 30),
        dt.date(2026, 10, 30),
    ]
    assert list(
        RecurringPeriod.objects.filter(schedule=schedule).values_list("start_date", flat=True)
    ) == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)]


def test_a_new_start_date_cannot_overlap_the_billed_periods(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    bill_periods(schedule, 2)  # up to 30 March

    with pytest.raises(ValidationError) as refused:
        schedule_update(schedule=schedule, actor=owner.user, start_date=dt.date(2026, 3, 1))

    assert refused.value.message_dict["start_date"] == [
        "Periods up to 30 Mar 2026 are billed already: start the new timing after that day."
    ]
    schedule.refresh_from_db()
    assert (schedule.start_date, schedule.anchor_period_index) == (START, 0)
    moved = schedule_update(schedule=schedule, actor=owner.user, start_date=dt.date(2026, 4, 1))
    assert (moved.anchor_period_index, moved.next_period_start) == (2, dt.date(2026, 4, 1))


def test_a_new_frequency_after_a_resume_starts_at_the_first_period_not_skipped(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    """Nothing billed, eight periods slept through: quarterly starts on the next billing day."""
    schedule_pause(schedule=schedule, actor=owner.user)
    resumed = schedule_resume(schedule=schedule, actor=owner.user)
    assert (resumed.next_period_index, resumed.next_period_start) == (10, dt.date(2026, 11, 30))

    updated = schedule_update(schedule=schedule, actor=owner.user, interval_count=3)

    assert (updated.start_date, updated.anchor_period_index) == (dt.date(2026, 11, 30), 10)
    assert updated.next_period_start == dt.date(2026, 11, 30)
    timing = schedule_timing(updated)
    assert [p.start for p in itertools.islice(periods_from(timing, 10), 2)] == [
        dt.date(2026, 11, 30),
        dt.date(2027, 2, 28),
    ]


def test_ending_after_fewer_invoices_than_billed_is_refused(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    bill_periods(schedule, 4)

    with pytest.raises(ValidationError, match="billed 4 periods already: enter 4 or more"):
        schedule_update(
            schedule=schedule,
            actor=owner.user,
            end_kind=ScheduleEnd.AFTER_COUNT,
            end_after_count=3,
        )


def test_replacing_the_lines_applies_to_the_next_periods_and_is_audited(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    schedule_lines_replace(
        schedule=schedule,
        actor=owner.user,
        lines=[line(unit_price="700.00"), line("Reporting", unit_price="90.00")],
    )

    assert [(stored.description, stored.unit_price) for stored in schedule.lines.all()] == [
        ("SEO retainer", Decimal("700.0000")),
        ("Reporting", Decimal("90.0000")),
    ]
    assert AuditEvent.objects.get(verb=ScheduleVerb.LINES_SAVED).data == {"lines": 2}


def test_replacing_with_no_lines_keeps_the_old_ones(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    with pytest.raises(LinesInvalid):
        schedule_lines_replace(schedule=schedule, actor=owner.user, lines=[])

    assert schedule.lines.count() == 1


# --- the lifecycle ------------------------------------------------------------------------


def test_a_paused_schedule_resumes_without_catching_up_on_the_periods_it_slept_through(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    bill_periods(schedule, 2)  # 31 Jan, 28 Feb; today is 24 Nov
    paused = schedule_pause(schedule=schedule, actor=owner.user)
    assert (paused.status, paused.paused_at is not None) == (ScheduleStatus.PAUSED, True)

    resumed = schedule_resume(schedule=schedule, actor=owner.user)

    assert resumed.status == ScheduleStatus.ACTIVE
    assert (resumed.next_period_index, resumed.next_period_start) == (10, dt.date(2026, 11, 30))
    event = AuditEvent.objects.get(verb=ScheduleVerb.RESUMED)
    assert event.data == {"from": "paused", "to": "active", "periods_skipped": 8}


def test_an_ended_schedule_cannot_resume_nor_change(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    ended = schedule_end(schedule=schedule, actor=owner.user, reason="Contract over")
    assert (ended.status, ended.next_period_start) == (ScheduleStatus.ENDED, None)

    with pytest.raises(ValidationError, match="An ended schedule cannot become active") as moved:
        schedule_resume(schedule=schedule, actor=owner.user)
    assert moved.value.code == ErrorCode.INVALID_TRANSITION
    with pytest.raises(ValidationError, match="has ended") as edited:
        schedule_update(schedule=schedule, actor=owner.user, name="Again")
    assert edited.value.code == ErrorCode.ENDED
    assert AuditEvent.objects.get(verb=ScheduleVerb.ENDED).data["reason"] == "Contract over"


def test_an_active_schedule_cannot_be_resumed_nor_a_paused_one_paused(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    with pytest.raises(ValidationError, match="An active schedule cannot become active"):
        schedule_resume(schedule=schedule, actor=owner.user)
    schedule_pause(schedule=schedule, actor=owner.user)
    with pytest.raises(ValidationError, match="A paused schedule cannot become paused"):
        schedule_pause(schedule=schedule, actor=owner.user)
    assert schedule_end(schedule=schedule, actor=owner.user).status == ScheduleStatus.ENDED


def test_a_client_with_a_schedule_keeps_its_currency_and_cannot_be_deleted(
    schedule: RecurringSchedule, owner: Membership
) -> None:
    client = schedule.client

    with pytest.raises(ValidationError, match="cannot be deleted"):
        client_delete(client=client, actor=owner.user)
    with pytest.raises(ValidationError) as refused:
        client_update(client=client, actor=owner.user, currency="EUR")

    assert "currency" in refused.value.message_dict
    client.refresh_from_db()
    assert client.currency == "USD"
