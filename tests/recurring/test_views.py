"""The staff pages: a won deal becomes a retainer in three clicks; a schedule's page shows its
preview and invoices; its settings, lines and lifecycle change through the services."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.catalog.models import TaxRate, UnitType
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal
from clientledger.lines.choices import Recurrence
from clientledger.recurring.audit_verbs import ScheduleVerb
from clientledger.recurring.models import (
    PeriodAction,
    RecurringSchedule,
    ScheduleEnd,
    ScheduleStatus,
)
from clientledger.recurring.services import schedule_create
from clientledger.recurring.services.billing_run import billing_run
from tests.accounts.test_agency_settings import posted_settings
from tests.factories import ClientFactory, DealLineFactory
from tests.recurring.conftest import line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None]) -> None:
    """Every test here runs on 2026-11-24: the next 1st is 1 December."""


@pytest.fixture
def retainer_deal(won_deal: Deal, vat: TaxRate) -> Deal:
    DealLineFactory.create(
        deal=won_deal,
        description="SEO retainer",
        quantity=1,
        unit="month",
        unit_price=650,
        tax_1=vat,
        recurrence=Recurrence.MONTHLY,
    )
    DealLineFactory.create(deal=won_deal, description="Kick-off workshop", unit=UnitType.FIXED)
    return won_deal


@pytest.fixture
def schedule(buyer: Client, owner: Membership, vat: TaxRate) -> RecurringSchedule:
    return schedule_create(
        agency=buyer.agency,
        actor=owner.user,
        client=buyer,
        name="SEO retainer",
        lines=[line(taxes=[vat])],
        start_date=dt.date(2026, 12, 1),
    )


def form_fields(html: str) -> dict[str, str]:
    """What the browser posts back from a page's form as served: its prefilled values."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name is None or (kind and kind[1] == "radio" and "checked" not in tag):
            continue
        fields[name[1]] = value[1] if value else ""
    for select in re.finditer(r'<select name="([^"]+)".*?</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select[0])
        fields[select[1]] = chosen[1] if chosen else ""
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def test_a_won_deal_becomes_a_retainer_in_three_clicks(
    owner_client: HttpClient, retainer_deal: Deal
) -> None:
    deal_page = owner_client.get(reverse("crm:deal_detail", args=[retainer_deal.pk]))
    setup_url = reverse("recurring:schedule_create_from_deal", args=[retainer_deal.pk])
    assert setup_url in deal_page.content.decode()  # click 1: "Set up retainer"

    form_page = owner_client.get(setup_url)
    html = form_page.content.decode()
    assert 'value="2026-12-01"' in html
    assert "Kick-off workshop" not in html
    confirmed = owner_client.post(setup_url, form_fields(html))  # click 2: confirm

    schedule = RecurringSchedule.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("recurring:schedule_detail", args=[schedule.pk])
    assert (schedule.name, schedule.start_date, schedule.deal) == (
        retainer_deal.title,
        dt.date(2026, 12, 1),
        retainer_deal,
    )
    assert (schedule.interval_unit, schedule.interval_count) == ("month", 1)
    assert schedule.on_period == PeriodAction.DRAFT
    assert [stored.description for stored in schedule.lines.all()] == ["SEO retainer"]
    detail = owner_client.get(confirmed["Location"])
    assert "$780.00" in detail.content.decode()


def test_the_set_up_form_shows_the_services_refusal_on_its_field(
    owner_client: HttpClient, retainer_deal: Deal
) -> None:
    setup_url = reverse("recurring:schedule_create_from_deal", args=[retainer_deal.pk])
    fields = form_fields(owner_client.get(setup_url).content.decode())
    fields |= {"end_kind": ScheduleEnd.ON_DATE, "end_date": "2026-11-01"}

    refused = owner_client.post(setup_url, fields)

    assert refused.status_code == 200
    assert "The end date must be on or after the start date." in refused.content.decode()
    assert not RecurringSchedule.objects.exists()


def test_a_deal_without_recurring_lines_explains_what_a_retainer_needs(
    owner_client: HttpClient, won_deal: Deal
) -> None:
    DealLineFactory.create(deal=won_deal, description="Kick-off workshop")

    page = owner_client.get(reverse("recurring:schedule_create_from_deal", args=[won_deal.pk]))

    assert "No recurring lines" in page.content.decode()
    deal_page = owner_client.get(reverse("crm:deal_detail", args=[won_deal.pk]))
    assert "Set up retainer" not in deal_page.content.decode()


def test_the_client_and_deal_pages_show_the_retainer_with_its_next_invoice_and_mrr(
    owner_client: HttpClient, schedule: RecurringSchedule, won_deal: Deal, owner: Membership
) -> None:
    schedule.deal = won_deal
    schedule.save()

    for url in (
        reverse("crm:client_detail", args=[schedule.client_id]),
        reverse("crm:deal_detail", args=[won_deal.pk]),
    ):
        html = owner_client.get(url).content.decode()
        assert reverse("recurring:schedule_detail", args=[schedule.pk]) in html
        assert "Dec 1, 2026" in html
        assert "$780.00" in html
        assert "$650.00 MRR" in html


def test_a_schedules_page_shows_its_preview_and_lifecycle_buttons(
    owner_client: HttpClient, schedule: RecurringSchedule
) -> None:
    html = owner_client.get(reverse("recurring:schedule_detail", args=[schedule.pk])).content
    page = html.decode()

    assert "Tue, Dec 1, 2026" in page
    assert "Sat, Jan 1, 2028" not in page and "Mon, Nov 1, 2027" in page
    assert reverse("recurring:schedule_pause", args=[schedule.pk]) in page
    assert reverse("recurring:schedule_resume", args=[schedule.pk]) not in page


def test_pausing_resuming_and_ending_from_the_page(
    owner_client: HttpClient, schedule: RecurringSchedule
) -> None:
    owner_client.post(reverse("recurring:schedule_pause", args=[schedule.pk]))
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PAUSED

    owner_client.post(reverse("recurring:schedule_resume", args=[schedule.pk]))
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.ACTIVE

    owner_client.post(
        reverse("recurring:schedule_end", args=[schedule.pk]), {"reason": "Contract over"}
    )
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.ENDED
    assert AuditEvent.objects.get(verb=ScheduleVerb.ENDED).data["reason"] == "Contract over"
    again = owner_client.post(reverse("recurring:schedule_resume", args=[schedule.pk]), follow=True)
    assert "An ended schedule cannot become active." in again.content.decode()


def test_the_edit_page_previews_a_change_before_saving_it(
    owner_client: HttpClient, schedule: RecurringSchedule
) -> None:
    url = reverse("recurring:schedule_edit", args=[schedule.pk])
    fields = form_fields(owner_client.get(url).content.decode()) | {"interval_count": "3"}

    previewed = owner_client.post(url, fields | {"preview": "1"})

    page = previewed.content.decode()
    assert "Next invoices with the changes" in page
    assert "Mon, Mar 1, 2027" in page
    schedule.refresh_from_db()
    assert schedule.interval_count == 1

    saved = owner_client.post(url, fields)
    assert saved.status_code == 302
    schedule.refresh_from_db()
    assert schedule.interval_count == 3


def test_the_lines_page_replaces_the_lines(
    owner_client: HttpClient, schedule: RecurringSchedule
) -> None:
    url = reverse("recurring:schedule_lines", args=[schedule.pk])
    assert owner_client.get(url).status_code == 200

    saved = owner_client.post(
        url,
        {
            "row": ["0"],
            "line-0-description": "SEO and content",
            "line-0-quantity": "1",
            "line-0-unit": "month",
            "line-0-unit_price": "700.00",
            "line-0-recurrence": "monthly",
        },
    )

    assert saved.status_code == 302
    assert [stored.unit_price for stored in schedule.lines.all()] == [700]


def test_a_viewer_sees_retainers_but_cannot_change_them(
    login: Callable[[Membership], HttpClient], viewer: Membership, schedule: RecurringSchedule
) -> None:
    http = login(viewer)

    assert http.get(reverse("recurring:schedule_list")).status_code == 200
    page = http.get(reverse("recurring:schedule_detail", args=[schedule.pk])).content.decode()
    assert "Edit settings" not in page
    assert http.post(reverse("recurring:schedule_pause", args=[schedule.pk])).status_code == 403


def test_another_agencys_schedule_is_not_found(
    login: Callable[[Membership], HttpClient], outsider: Membership, schedule: RecurringSchedule
) -> None:
    http = login(outsider)

    assert http.get(reverse("recurring:schedule_detail", args=[schedule.pk])).status_code == 404
    assert http.post(reverse("recurring:schedule_pause", args=[schedule.pk])).status_code == 404


def test_the_list_is_searchable_and_has_an_empty_state(
    owner_client: HttpClient, schedule: RecurringSchedule
) -> None:
    listed = owner_client.get(reverse("recurring:schedule_list"), {"q": "acme"}).content.decode()
    missed = owner_client.get(reverse("recurring:schedule_list"), {"q": "zzz"}).content.decode()

    assert "SEO retainer" in listed
    assert "No retainers match" in missed


def test_the_client_page_costs_the_same_queries_with_more_retainers(
    owner_client: HttpClient, schedule: RecurringSchedule, owner: Membership, vat: TaxRate
) -> None:
    url = reverse("crm:client_detail", args=[schedule.client_id])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for number in range(5):
        schedule_create(
            agency=schedule.agency,
            actor=owner.user,
            client=schedule.client,
            name=f"Retainer {number}",
            lines=[line(taxes=[vat]), line("Reporting")],
            start_date=dt.date(2026, 12, 1),
        )
    assert queries() == few


def test_the_agency_turns_on_applying_credit_to_retainer_invoices_in_its_settings(
    owner: Membership, owner_client: HttpClient, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    page = owner_client.get(reverse("accounts:agency_settings")).content.decode()

    saved = owner_client.post(
        reverse("accounts:agency_settings"),
        posted_settings(owner.agency) | {"apply_credit_to_retainers": "on"},
    )

    assert "Apply client credit to new retainer invoices automatically" in page
    assert saved.status_code == 302
    owner.agency.refresh_from_db()
    assert owner.agency.apply_credit_to_retainers is True


def test_a_schedule_the_billing_run_cannot_bill_is_flagged_on_the_list_and_its_page(
    owner_client: HttpClient, owner: Membership, vat: TaxRate
) -> None:
    silent = ClientFactory.create(
        agency=owner.agency, currency="USD", name="Silent Ltd", billing_email=""
    )
    failing = schedule_create(
        agency=owner.agency,
        actor=owner.user,
        client=silent,
        name="Silent care",
        lines=[line(taxes=[vat])],
        start_date=dt.date(2026, 11, 1),
        on_period=PeriodAction.ISSUE_AND_SEND,
    )
    billing_run(as_of=dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC), agency=owner.agency)

    listed = owner_client.get(reverse("recurring:schedule_list")).content.decode()
    page = owner_client.get(reverse("recurring:schedule_detail", args=[failing.pk])).content
    detail = page.decode()

    assert "Billing failed" in listed
    assert "Last billing runs" in listed and "Silent Ltd has no billing email" in listed
    assert "could not bill period 1" in detail and "Silent Ltd has no billing email" in detail


def test_a_billed_schedule_is_not_flagged(
    owner_client: HttpClient, schedule: RecurringSchedule
) -> None:
    billing_run(as_of=dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC))

    listed = owner_client.get(reverse("recurring:schedule_list")).content.decode()
    page = owner_client.get(reverse("recurring:schedule_detail", args=[schedule.pk])).content

    assert "Billing failed" not in listed and "Last billing runs" in listed
    assert "could not bill" not in page.decode()


def test_a_retainer_is_set_up_from_scratch_for_a_client_with_its_lines(
    owner_client: HttpClient, buyer: Client
) -> None:
    picker = owner_client.get(reverse("recurring:schedule_new"))
    chosen = owner_client.get(reverse("recurring:schedule_new"), {"client": buyer.pk})
    create_url = reverse("recurring:schedule_create", args=[buyer.pk])
    form_page = owner_client.get(create_url).content.decode()

    posted = owner_client.post(
        create_url,
        {
            "name": "Hosting",
            "interval_count": "3",
            "interval_unit": "month",
            "start_date": "2027-01-01",
            "end_kind": "never",
            "on_period": "issue",
            "row": ["0"],
            "line-0-description": "Managed hosting",
            "line-0-quantity": "1",
            "line-0-unit": "month",
            "line-0-unit_price": "90",
            "line-0-recurrence": "monthly",
        },
    )

    assert "Acme Corp (USD)" in picker.content.decode()
    assert chosen["Location"] == create_url
    assert 'value="2026-12-01"' in form_page and "Set up retainer" in form_page
    schedule = RecurringSchedule.objects.get()
    assert posted.status_code == 302, posted.content.decode()
    assert posted["Location"] == reverse("recurring:schedule_detail", args=[schedule.pk])
    assert (schedule.client, schedule.name, schedule.interval_count) == (buyer, "Hosting", 3)
    assert (schedule.start_date, schedule.on_period) == (dt.date(2027, 1, 1), PeriodAction.ISSUE)
    assert [stored.description for stored in schedule.lines.all()] == ["Managed hosting"]


def test_a_retainer_without_lines_is_refused_and_nothing_is_saved(
    owner_client: HttpClient, buyer: Client
) -> None:
    create_url = reverse("recurring:schedule_create", args=[buyer.pk])
    page = owner_client.post(
        create_url,
        {
            "name": "Hosting",
            "interval_count": "1",
            "interval_unit": "month",
            "start_date": "2027-01-01",
            "end_kind": "never",
            "on_period": "issue",
        },
    )

    assert page.status_code == 200
    assert "Add at least one line" in page.content.decode()
    assert not RecurringSchedule.objects.exists()


def test_the_new_retainers_totals_are_priced_for_its_client(
    owner_client: HttpClient, buyer: Client
) -> None:
    totals = owner_client.post(
        reverse("recurring:schedule_create_totals", args=[buyer.pk]),
        {
            "row": ["0"],
            "line-0-description": "Managed hosting",
            "line-0-quantity": "2",
            "line-0-unit": "month",
            "line-0-unit_price": "90",
            "line-0-recurrence": "monthly",
        },
    )

    assert "$180.00" in totals.content.decode()
