"""The reminder sweep: each step once, only when owed, the latest after downtime."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.credit_notes import credit_note_create, credit_note_issue
from clientledger.billing.services.estimates import estimate_decline
from clientledger.billing.services.invoices import invoice_void
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.payments.models import Dispute, DisputeStatus, Payment, PaymentMethod
from clientledger.receivables.models import (
    Reminder,
    ReminderOutcome,
    ReminderPolicy,
    ReminderStep,
    SkipReason,
)
from clientledger.receivables.services import reminders as reminders_module
from clientledger.receivables.services.policies import (
    client_reminder_policy_set,
    invoice_reminders_pause,
    invoice_reminders_resume,
    reminder_policy_create,
    reminder_policy_default,
)
from clientledger.receivables.services.reminder_decisions import Decision
from clientledger.receivables.services.reminders import reminders_run
from tests.factories import ClientFactory
from tests.receivables.conftest import (
    TODAY,
    IssueInvoice,
    at,
    day,
    invoice_for,
    pay,
    sent_estimate,
)

pytestmark = pytest.mark.django_db


def _log(invoice: Invoice) -> list[tuple[int, str, str]]:
    return [
        (reminder.step.offset_days, reminder.outcome, reminder.skip_reason)
        for reminder in Reminder.objects.filter(invoice=invoice).select_related("step")
    ]


def test_the_first_step_after_the_due_date_is_sent_once_however_often_the_sweep_runs(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(-1))

    for _ in range(3):
        reminders_run(as_of=at(0))
    reminders_run(as_of=at(0, hour=18))

    assert _log(invoice) == [
        (-3, ReminderOutcome.SKIPPED, SkipReason.SUPERSEDED),
        (1, ReminderOutcome.SENT, ""),
    ]
    assert EmailMessage.objects.filter(subject__contains=invoice.number).count() == 1


def test_after_downtime_only_the_latest_due_step_goes_out_and_the_missed_ones_are_superseded(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(-15))

    summary = reminders_run(as_of=at(0))

    assert _log(invoice) == [
        (-3, ReminderOutcome.SKIPPED, SkipReason.SUPERSEDED),
        (1, ReminderOutcome.SKIPPED, SkipReason.SUPERSEDED),
        (7, ReminderOutcome.SKIPPED, SkipReason.SUPERSEDED),
        (14, ReminderOutcome.SENT, ""),
    ]
    assert summary.as_counts() == {"sent": 1, "superseded": 3}
    assert EmailMessage.objects.count() == 1


def test_each_step_goes_out_on_its_day_as_the_days_pass(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(3))

    for offset in range(0, 40):
        reminders_run(as_of=at(offset))

    assert [offset for offset, outcome, _ in _log(invoice) if outcome == "sent"] == [
        -3,
        1,
        7,
        14,
        30,
    ]


def test_nothing_goes_out_before_the_sending_hour_or_on_a_weekend(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(4))  # -3 falls on Tuesday, +1 on Saturday

    reminders_run(as_of=at(1, hour=7))  # 8:00 in Berlin
    assert _log(invoice) == []
    reminders_run(as_of=at(1))
    reminders_run(as_of=at(5))
    reminders_run(as_of=at(6))
    assert [offset for offset, _, _ in _log(invoice)] == [-3]
    reminders_run(as_of=at(7))  # Monday: the Saturday step goes out

    assert [(offset, outcome) for offset, outcome, _ in _log(invoice)] == [
        (-3, "sent"),
        (1, "sent"),
    ]


def test_a_paid_void_or_fully_credited_invoice_is_not_reminded(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    paid, void, credited = issue(due_on=day(-1)), issue(due_on=day(-1)), issue(due_on=day(-1))
    pay(paid)
    invoice_void(invoice=void, actor=None, reason="Billed twice")
    credit_note_issue(
        credit_note=credit_note_create(invoice=credited, actor=None, reason="Cancelled"),
        actor=None,
    )

    summary = reminders_run(as_of=at(0))

    assert Reminder.objects.filter(outcome=ReminderOutcome.SENT).count() == 0
    # Credit notes settled all of it, so it is paid: like the paid one, nothing is owed.
    assert Invoice.objects.get(pk=credited.pk).status == InvoiceStatus.PAID
    assert _log(credited) == [] and _log(paid) == []
    assert summary.as_counts() == {}
    assert EmailMessage.objects.filter(subject__icontains="overdue").count() == 0


def test_a_paused_disputed_or_pending_invoice_gets_its_step_logged_as_skipped_with_why(
    agency: Agency, debtor: Client, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    paused, disputed, pending = issue(due_on=day(-1)), issue(due_on=day(-1)), issue(due_on=day(-1))
    invoice_reminders_pause(invoice=paused, actor=None, reason="Client asked for a week")
    payment = pay(disputed)
    Invoice.objects.filter(pk=disputed.pk).update(status="open", amount_paid_minor=0)
    Dispute.objects.create(
        agency=agency,
        payment=payment,
        invoice=disputed,
        stripe_dispute_id="dp_1",
        amount_minor=10000,
        currency="USD",
        status=DisputeStatus.NEEDS_RESPONSE,
    )
    Payment.objects.create(
        agency=agency,
        client=debtor,
        method=PaymentMethod.US_BANK_ACCOUNT,
        amount_minor=10000,
        currency="USD",
        received_on=TODAY,
        invoice=pending,
    )

    reminders_run(as_of=at(0))

    assert _log(paused)[-1] == (1, "skipped", SkipReason.PAUSED)
    assert _log(disputed)[-1] == (1, "skipped", SkipReason.DISPUTED)
    assert _log(pending)[-1] == (1, "skipped", SkipReason.PAYMENT_PENDING)
    invoice_reminders_resume(invoice=paused, actor=None)
    reminders_run(as_of=at(7))
    assert _log(paused)[-1] == (7, "sent", "")


def test_an_invoice_paid_between_the_decision_and_the_send_gets_no_reminder(
    agency: Agency, issue: IssueInvoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(-1))
    settle = reminders_module.invoice_reminder_settle

    def paid_meanwhile(*, decision: Decision, as_of: dt.datetime) -> str:
        pay(Invoice.objects.get(pk=decision.document_id))
        return settle(decision=decision, as_of=as_of)

    monkeypatch.setattr(reminders_module, "invoice_reminder_settle", paid_meanwhile)
    reminders_run(as_of=at(0))

    assert _log(invoice)[-1] == (1, "skipped", SkipReason.PAID)
    assert not EmailMessage.objects.filter(subject__icontains="overdue").exists()


def test_a_client_set_to_no_reminders_gets_none_and_one_on_another_policy_gets_its_steps(
    agency: Agency, debtor: Client
) -> None:
    reminder_policy_default(agency=agency)
    gentle = reminder_policy_create(agency=agency, actor=None, name="Gentle")
    ReminderStep.objects.filter(policy=gentle, offset_days=1).update(enabled=False)
    quiet = ClientFactory(agency=agency, currency="USD", billing_email="q@quiet.example")
    client_reminder_policy_set(client=quiet, actor=None, follows_default=False, policy=None)
    client_reminder_policy_set(client=debtor, actor=None, follows_default=False, policy=gentle)
    quiet_invoice = invoice_for(quiet, due_on=day(-1))
    gentle_invoice = invoice_for(debtor, due_on=day(-1))

    reminders_run(as_of=at(0))

    assert _log(quiet_invoice) == []
    assert _log(gentle_invoice) == [(-3, "sent", "")]


def test_a_dry_run_lists_what_would_be_sent_and_writes_nothing(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(-1))

    summary = reminders_run(as_of=at(0), dry_run=True)

    assert summary.planned == [f"invoice {invoice.number}: Invoice due date +1 days"]
    assert not Reminder.objects.exists()
    assert ReminderPolicy.objects.get().swept_through is None


def test_the_decision_takes_the_same_queries_for_three_invoices_as_for_thirty(
    agency: Agency, debtor: Client
) -> None:
    reminder_policy_default(agency=agency)
    for _ in range(3):
        invoice_for(debtor, due_on=day(-1))
    with CaptureQueriesContext(connection) as few:
        reminders_run(as_of=at(0), dry_run=True)
    for _ in range(27):
        invoice_for(debtor, due_on=day(-1))
    with CaptureQueriesContext(connection) as many:
        summary = reminders_run(as_of=at(0), dry_run=True)

    assert len(summary.planned) == 30
    assert len(many.captured_queries) == len(few.captured_queries) <= 8


def test_a_sent_estimate_unanswered_for_a_week_is_followed_up_once(
    agency: Agency, debtor: Client
) -> None:
    reminder_policy_default(agency=agency)
    estimate = sent_estimate(debtor)

    reminders_run(as_of=at(7))
    reminders_run(as_of=at(8))

    logged = Reminder.objects.filter(estimate=estimate).select_related("step")
    assert [(r.step.trigger, r.outcome) for r in logged] == [("estimate_sent", "sent")]


def test_the_command_runs_as_of_a_date_and_summarises(
    agency: Agency, issue: IssueInvoice, capsys: pytest.CaptureFixture[str]
) -> None:
    reminder_policy_default(agency=agency)
    issue(due_on=day(-1))

    call_command("reminders", "run", "--as-of", day(7).isoformat(), "--dry-run")
    call_command("reminders", "run", "--as-of", day(7).isoformat())
    call_command("reminders", "run", "--as-of", day(7).isoformat())

    out = capsys.readouterr().out
    assert "would send invoice" in out
    assert "1 sent, 2 superseded." in out
    assert "nothing due" in out
    assert Reminder.objects.values("outcome").annotate(n=Count("id")).count() == 2


def test_an_estimate_gets_a_note_before_it_expires_and_none_once_answered(
    agency: Agency, debtor: Client
) -> None:
    reminder_policy_default(agency=agency)
    waiting = sent_estimate(debtor, valid_days=20)
    answered = sent_estimate(debtor, valid_days=20)
    estimate_decline(estimate=answered, reason="Over budget")

    for offset in (7, 17, 18):
        reminders_run(as_of=at(offset))

    logged = Reminder.objects.filter(estimate=waiting).select_related("step")
    assert [(r.step.trigger, r.step.offset_days, r.outcome) for r in logged] == [
        ("estimate_sent", 7, "sent"),
        ("estimate_expiry", -3, "sent"),
    ]
    assert not Reminder.objects.filter(estimate=answered).exists()
