"""Reminders through the API: policies, an invoice's timeline, pause and resume, statements."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.receivables.models import InvoiceReminderState
from clientledger.receivables.services.reminders import reminders_run
from tests.api.conftest import ApiClient, errors
from tests.factories import ClientFactory
from tests.receivables.conftest import NOW, at, day, invoice_for, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def debtor(
    agency: Agency, monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> Client:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    settings.MEDIA_ROOT = tmp_path / "media"
    return ClientFactory(
        agency=agency, name="Acme Corp", currency="USD", billing_email="ap@acme.example"
    )


def test_the_policy_is_listed_with_its_steps_and_updated_in_part(
    owner_api: ApiClient, debtor: Client
) -> None:
    [policy] = owner_api.get("/reminder-policies").json()
    assert [
        step["offset_days"] for step in policy["steps"] if step["trigger"] == "invoice_due"
    ] == [
        -3,
        1,
        7,
        14,
        30,
    ]

    updated = owner_api.patch(f"/reminder-policies/{policy['id']}", {"send_hour": 7})

    assert updated.status_code == 200, updated.content
    assert (updated.json()["send_hour"], len(updated.json()["steps"])) == (7, 7)


def test_a_step_with_an_unknown_placeholder_is_refused_on_its_field(
    owner_api: ApiClient, debtor: Client
) -> None:
    [policy] = owner_api.get("/reminder-policies").json()
    steps = [
        {**step, "subject": "Hi {name}"} if i == 0 else step
        for i, step in enumerate(policy["steps"])
    ]

    refused = owner_api.patch(f"/reminder-policies/{policy['id']}", {"steps": steps})

    assert "Unknown placeholder {name}" in errors(refused)["steps"]


def test_the_timeline_shows_what_was_sent_and_pause_and_resume_change_it(
    owner_api: ApiClient, debtor: Client
) -> None:
    owner_api.get("/reminder-policies")
    invoice = invoice_for(debtor, "40.00", due_on=day(-1))
    reminders_run(as_of=at(0))

    timeline = owner_api.get(f"/invoices/{invoice.pk}/reminders").json()
    sent = [entry for entry in timeline["entries"] if entry["state"] == "sent"]
    assert [(e["offset_days"], e["balance_shown"], e["recipients"]) for e in sent] == [
        (1, "40.00", ["ap@acme.example"])
    ]
    assert timeline["next_planned"]["offset_days"] == 7

    paused = owner_api.post(f"/invoices/{invoice.pk}/reminders/pause", {"reason": "On holiday"})
    assert (paused.json()["paused"], paused.json()["next_planned"]) == (True, None)
    assert (
        owner_api.post(f"/invoices/{invoice.pk}/reminders/pause", {"reason": "x"}).status_code
        == 409
    )
    resumed = owner_api.post(f"/invoices/{invoice.pk}/reminders/resume")
    assert resumed.json()["paused"] is False
    assert InvoiceReminderState.objects.get().status == "active"


def test_the_statement_comes_as_json_and_as_a_pdf(owner_api: ApiClient, debtor: Client) -> None:
    invoice = invoice_for(debtor, "75.00", due_on=day(-10))
    pay(invoice, "25.00")

    statement = owner_api.get(f"/clients/{debtor.pk}/statement", start=day(-60).isoformat())
    pdf = owner_api.get(f"/clients/{debtor.pk}/statement/pdf")

    body = statement.json()
    assert (body["opening_balance"], body["closing_balance"], body["open_total"]) == (
        "0.00",
        "50.00",
        "50.00",
    )
    assert [line["amount"] for line in body["lines"]] == ["75.00", "-25.00"]
    assert body["open_invoices"][0]["days_overdue"] == 10
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    backwards = owner_api.get(
        f"/clients/{debtor.pk}/statement", start=day(1).isoformat(), end=day(0).isoformat()
    )
    assert errors(backwards) == {"start": "The period starts after it ends."}


def test_sales_reads_the_timeline_but_cannot_pause(
    sales: Membership, api_as: Callable[[Membership], ApiClient], debtor: Client
) -> None:
    sales_api = api_as(sales)
    invoice = invoice_for(debtor, due_on=day(3))

    assert sales_api.get(f"/invoices/{invoice.pk}/reminders").status_code == 200
    paused = sales_api.post(f"/invoices/{invoice.pk}/reminders/pause", {"reason": "x"})
    assert paused.status_code == 403
