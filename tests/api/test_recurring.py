"""Recurring schedules and billing runs through the API: creating from a won deal or from
lines, strict input, edits, the lifecycle's conflicts, previews, invoices with their payment
state, and the billing runs an agency sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from clientledger.accounts.models import Agency, Membership
from clientledger.core import clock
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.lines.choices import Recurrence
from clientledger.recurring.models import RecurringSchedule
from clientledger.recurring.services.billing_run import billing_run
from tests.api.conftest import ApiClient, errors
from tests.factories import ClientFactory, DealFactory, DealLineFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory.create(agency=agency, name="Acme Corp", currency="USD")


@pytest.fixture
def won_deal(buyer: Client) -> Deal:
    deal = DealFactory.create(client=buyer, agency=buyer.agency, title="SEO", stage=DealStage.WON)
    DealLineFactory.create(
        deal=deal,
        description="SEO retainer",
        quantity=1,
        unit_price=650,
        unit="month",
        recurrence=Recurrence.MONTHLY,
    )
    DealLineFactory.create(deal=deal, description="Audit", recurrence=Recurrence.ONE_OFF)
    return deal


def line(**overrides: Any) -> dict[str, Any]:
    return {"description": "Care plan", "quantity": "1", "unit_price": "300", "unit": "month"} | (
        overrides
    )


def from_lines(buyer: Client, **overrides: Any) -> dict[str, Any]:
    return {
        "client_id": buyer.pk,
        "name": "Care plan",
        "start_date": "2026-12-01",
        "lines": [line()],
    } | overrides


def created(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/schedules", body)
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def test_a_retainer_is_set_up_from_a_won_deal_with_its_recurring_lines(
    owner_api: ApiClient, won_deal: Deal
) -> None:
    body = created(owner_api, {"from_deal_id": won_deal.pk, "start_date": "2026-12-01"})

    assert body["name"] == "SEO"
    assert (body["client_id"], body["deal_id"], body["status"]) == (
        won_deal.client_id,
        won_deal.pk,
        "active",
    )
    assert (body["interval_unit"], body["interval_count"]) == ("month", 1)
    assert [row["description"] for row in body["lines"]] == ["SEO retainer"]
    assert (body["next_invoice_date"], body["next_invoice_total"]) == ("2026-12-01", "650.00")
    assert body["monthly_recurring"] == "650.00"
    assert body["failing_reason"] is None


def test_a_schedule_is_created_from_lines_for_a_client(owner_api: ApiClient, buyer: Client) -> None:
    body = created(
        owner_api,
        from_lines(buyer, interval_count=3, on_period="issue", recipients=["ap@acme.example"]),
    )

    assert (body["name"], body["interval_count"], body["on_period"]) == ("Care plan", 3, "issue")
    assert body["recipients"] == ["ap@acme.example"]
    assert body["monthly_recurring"] == "100.00"
    assert RecurringSchedule.objects.get(pk=body["id"]).created_by is not None


def test_bad_input_answers_422_with_each_field_named(owner_api: ApiClient, buyer: Client) -> None:
    response = owner_api.post(
        "/schedules",
        from_lines(
            buyer,
            interval_count="3",
            interval_unit="fortnight",
            start_date="01/12/2026",
            lines=[line(quantity="lots")],
            colour="blue",
        ),
    )

    assert set(errors(response)) == {
        "interval_count",
        "interval_unit",
        "start_date",
        "lines[0].quantity",
        "colour",
    }


def test_a_schedule_from_lines_needs_a_client_and_a_name(owner_api: ApiClient) -> None:
    response = owner_api.post("/schedules", {"start_date": "2026-12-01", "lines": [line()]})

    assert set(errors(response)) == {"client_id", "name"}


def test_the_services_rules_answer_422_under_the_api_names(
    owner_api: ApiClient, buyer: Client
) -> None:
    ended_before_start = from_lines(buyer, end_kind="on_date", end_date="2026-11-01")

    assert "end_date" in errors(owner_api.post("/schedules", ended_before_start))
    assert "lines" in errors(owner_api.post("/schedules", from_lines(buyer, lines=[])))


def test_a_schedule_from_a_deal_takes_nothing_the_deal_gives(
    owner_api: ApiClient, won_deal: Deal
) -> None:
    response = owner_api.post(
        "/schedules",
        {"from_deal_id": won_deal.pk, "start_date": "2026-12-01", "client_id": won_deal.client_id},
    )

    assert errors(response) == {
        "client_id": "Leave this out when creating from a deal (from_deal_id)."
    }


def test_a_deal_not_won_yet_cannot_become_a_retainer(owner_api: ApiClient, won_deal: Deal) -> None:
    won_deal.stage = DealStage.PROPOSAL
    won_deal.save()

    response = owner_api.post(
        "/schedules", {"from_deal_id": won_deal.pk, "start_date": "2026-12-01"}
    )

    assert "from_deal_id" in errors(response)


def test_the_list_filters_by_status_and_client(
    owner_api: ApiClient, buyer: Client, agency: Agency
) -> None:
    other = ClientFactory.create(agency=agency, currency="USD")
    kept = created(owner_api, from_lines(buyer, name="Alpha"))
    created(owner_api, from_lines(other, name="Beta"))
    paused = created(owner_api, from_lines(buyer, name="Gamma"))
    owner_api.post(f"/schedules/{paused['id']}/pause")

    response = owner_api.get("/schedules", status="active", client_id=buyer.pk)

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["items"]] == [kept["id"]]


def test_the_list_is_paginated(owner_api: ApiClient, buyer: Client) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        created(owner_api, from_lines(buyer, name=name))

    first = owner_api.get("/schedules", limit=2).json()
    second = owner_api.get("/schedules", limit=2, after=first["next_cursor"]).json()

    assert [item["name"] for item in first["items"] + second["items"]] == [
        "Alpha",
        "Beta",
        "Gamma",
    ]
    assert second["next_cursor"] is None


def test_an_edit_changes_fields_and_lines_from_the_next_period(
    owner_api: ApiClient, buyer: Client
) -> None:
    schedule = created(owner_api, from_lines(buyer))

    patched = owner_api.patch(
        f"/schedules/{schedule['id']}", {"name": "Care+", "interval_count": 12}
    )
    replaced = owner_api.put(
        f"/schedules/{schedule['id']}/lines", {"lines": [line(unit_price="1200")]}
    )

    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["interval_count"]) == ("Care+", 12)
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["next_invoice_total"] == "1200.00"


def test_a_patch_refuses_null_for_a_required_field(owner_api: ApiClient, buyer: Client) -> None:
    schedule = created(owner_api, from_lines(buyer))

    assert "name" in errors(owner_api.patch(f"/schedules/{schedule['id']}", {"name": None}))


def test_pause_resume_and_end_follow_the_lifecycle(owner_api: ApiClient, buyer: Client) -> None:
    schedule = created(owner_api, from_lines(buyer))
    path = f"/schedules/{schedule['id']}"

    assert owner_api.post(f"{path}/pause").json()["status"] == "paused"
    assert owner_api.post(f"{path}/pause").status_code == 409
    assert owner_api.post(f"{path}/resume").json()["status"] == "active"
    ended = owner_api.post(f"{path}/end", {"reason": "Client left"})

    assert ended.status_code == 200, ended.content
    assert ended.json()["status"] == "ended"
    assert ended.json()["next_invoice_date"] is None


def test_an_ended_schedule_answers_409_to_every_change(owner_api: ApiClient, buyer: Client) -> None:
    schedule = created(owner_api, from_lines(buyer))
    path = f"/schedules/{schedule['id']}"
    owner_api.post(f"{path}/end", {})

    answers = [
        owner_api.patch(path, {"name": "Again"}).status_code,
        owner_api.put(f"{path}/lines", {"lines": [line()]}).status_code,
        owner_api.post(f"{path}/resume").status_code,
        owner_api.post(f"{path}/end", {}).status_code,
    ]

    assert answers == [409, 409, 409, 409]
    assert RecurringSchedule.objects.get(pk=schedule["id"]).name == "Care plan"


def test_another_agencys_schedule_is_not_found(
    owner_api: ApiClient, outsider: Membership, api_as: Callable[[Membership], ApiClient]
) -> None:
    theirs = ClientFactory.create(agency=outsider.agency, currency="USD")
    schedule = created(api_as(outsider), from_lines(theirs))

    assert owner_api.get(f"/schedules/{schedule['id']}").status_code == 404
    assert owner_api.post(f"/schedules/{schedule['id']}/pause").status_code == 404
    assert owner_api.get(f"/schedules/{schedule['id']}/invoices").status_code == 404


def test_another_agencys_client_cannot_be_billed(
    owner_api: ApiClient, outsider: Membership
) -> None:
    theirs = ClientFactory.create(agency=outsider.agency, currency="USD")

    assert "client_id" in errors(owner_api.post("/schedules", from_lines(theirs)))


def test_the_preview_lists_the_next_twelve_invoices(owner_api: ApiClient, buyer: Client) -> None:
    schedule = created(owner_api, from_lines(buyer, payment_terms_days=14))

    response = owner_api.get(f"/schedules/{schedule['id']}/preview")

    assert response.status_code == 200, response.content
    invoices = response.json()["invoices"]
    assert len(invoices) == 12
    assert invoices[0] == {
        "period_number": 1,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "invoice_date": "2026-12-01",
        "due_date": "2026-12-15",
        "total": "300.00",
    }
    assert invoices[11]["invoice_date"] == "2027-11-01"


def test_the_invoices_made_show_their_payment_state(owner_api: ApiClient, buyer: Client) -> None:
    schedule = created(owner_api, from_lines(buyer, start_date="2026-09-01", on_period="issue"))
    billing_run(as_of=NOW)

    response = owner_api.get(f"/schedules/{schedule['id']}/invoices")

    assert response.status_code == 200, response.content
    rows = response.json()["items"]
    assert [row["period_number"] for row in rows] == [3, 2, 1]
    assert [row["payment_state"] for row in rows] == ["open", "overdue", "overdue"]
    assert all(row["amount_due"] == "300.00" for row in rows)


def test_the_billing_runs_show_the_agencys_failures_and_its_schedule_is_flagged(
    owner_api: ApiClient,
    agency: Agency,
    outsider: Membership,
    api_as: Callable[[Membership], ApiClient],
) -> None:
    silent = ClientFactory.create(agency=agency, currency="USD", name="Silent", billing_email="")
    schedule = created(owner_api, from_lines(silent, on_period="issue_and_send"))
    theirs = ClientFactory.create(agency=outsider.agency, currency="USD", billing_email="")
    created(api_as(outsider), from_lines(theirs, on_period="issue_and_send"))
    billing_run(as_of=dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC))

    [run] = owner_api.get("/billing-runs").json()
    flagged = owner_api.get(f"/schedules/{schedule['id']}").json()

    assert (run["all_agencies"], run["invoices_created"], run["schedules_failed"]) == (
        True,
        None,
        1,
    )
    assert [failure["schedule_id"] for failure in run["failures"]] == [schedule["id"]]
    assert "no billing email" in run["failures"][0]["reason"]
    assert "no billing email" in flagged["failing_reason"]
    listed = owner_api.get("/schedules").json()["items"]
    assert listed[0]["failing_reason"] == flagged["failing_reason"]


def test_an_agencys_own_run_shows_its_counts(
    owner_api: ApiClient, agency: Agency, buyer: Client
) -> None:
    created(owner_api, from_lines(buyer, start_date="2026-10-01", on_period="issue"))
    billing_run(as_of=NOW, agency=agency)

    [run] = owner_api.get("/billing-runs").json()

    assert (run["all_agencies"], run["periods_due"], run["invoices_created"]) == (False, 2, 2)
    assert run["failures"] == []


def test_the_billing_runs_refuse_an_odd_limit(owner_api: ApiClient) -> None:
    assert "limit" in errors(owner_api.get("/billing-runs", limit=0))
