"""The dunning timeline and the statement of account, to the minor unit of the ledger."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import client_outstanding_balance
from clientledger.billing.models import Invoice, LedgerEntry
from clientledger.core.money import to_minor
from clientledger.crm.models import Client
from clientledger.receivables.models import SkipReason
from clientledger.receivables.selectors import client_reminder_summary, invoice_reminder_timeline
from clientledger.receivables.services.policies import (
    client_reminder_policy_set,
    invoice_reminders_pause,
    reminder_policy_default,
)
from clientledger.receivables.services.reminders import reminders_run
from clientledger.receivables.statements import client_statement, statement_pdf
from tests.receivables.conftest import TODAY, IssueInvoice, at, day, pay

pytestmark = pytest.mark.django_db


def _entries(agency: Agency, invoice: Invoice, offset: int) -> list[tuple[int, str, str]]:
    fresh = Invoice.objects.select_related("client").get(pk=invoice.pk)
    timeline = invoice_reminder_timeline(agency=agency, invoice=fresh, as_of=at(offset))
    return [(entry.offset_days, entry.state, entry.reason) for entry in timeline.entries]


def test_the_timeline_plans_every_step_then_shows_sent_and_skipped_paid_after_payment(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue("80.00", due_on=day(3))

    before = invoice_reminder_timeline(agency=agency, invoice=invoice, as_of=at(-1))
    assert [(e.offset_days, e.state) for e in before.entries] == [
        (-3, "planned"),
        (1, "planned"),
        (7, "planned"),
        (14, "planned"),
        (30, "planned"),
    ]
    assert before.next_planned is not None
    assert before.next_planned.at == dt.datetime(2026, 11, 2, 9, tzinfo=ZoneInfo("Europe/Berlin"))

    reminders_run(as_of=at(0))
    reminders_run(as_of=at(4))
    pay(invoice)

    assert _entries(agency, invoice, 11) == [
        (-3, "sent", ""),
        (1, "sent", ""),
        (7, "skipped", SkipReason.PAID),
        (14, "skipped", SkipReason.PAID),
        (30, "skipped", SkipReason.PAID),
    ]


def test_what_each_reminder_showed_agrees_with_the_ledger_to_the_minor_unit(
    agency: Agency, debtor: Client, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue("123.45", due_on=day(-1))
    pay(invoice, "23.40")

    reminders_run(as_of=at(0))

    timeline = invoice_reminder_timeline(agency=agency, invoice=invoice, as_of=at(0))
    assert timeline.last_sent is not None
    ledger_balance = to_minor(client_outstanding_balance(agency=agency, client=debtor), "USD")
    assert timeline.last_sent.balance_minor == ledger_balance == 10005
    assert timeline.last_sent.recipients == ("ap@acme.example",)


def test_a_paused_invoice_shows_its_steps_held_and_the_client_card_says_so(
    agency: Agency, debtor: Client, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue(due_on=day(5))
    invoice_reminders_pause(invoice=invoice, actor=None, reason="Paying on the 20th")

    assert {state for _, state, _ in _entries(agency, invoice, 0)} == {"held"}
    summary = client_reminder_summary(agency=agency, client=debtor)
    assert (summary.paused_invoices, summary.last_reminder) == (1, None)


def test_a_client_with_no_reminders_has_no_plan(
    agency: Agency, debtor: Client, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    client_reminder_policy_set(client=debtor, actor=None, follows_default=False, policy=None)
    invoice = issue(due_on=day(5))

    timeline = invoice_reminder_timeline(agency=agency, invoice=invoice, as_of=at(0))

    assert (timeline.policy, timeline.entries, timeline.next_planned) == (None, [], None)


def test_the_statement_runs_from_the_opening_to_the_closing_balance_of_the_ledger(
    agency: Agency, debtor: Client, issue: IssueInvoice
) -> None:
    early = issue("100.00", due_on=day(-40))
    LedgerEntry.objects.filter(document_id=early.pk).update(
        occurred_at=at(-70)
    )  # issued before the period
    late = issue("55.55", due_on=day(-5))
    recent = issue("10.01", due_on=day(20))
    pay(late, "20.00")

    statement = client_statement(
        agency=agency, client=debtor, start=day(-60), end=TODAY, today=TODAY
    )

    ledger_total = to_minor(client_outstanding_balance(agency=agency, client=debtor), "USD")
    assert statement.opening_minor == 10000
    assert statement.closing_minor == ledger_total == 10000 + 5555 + 1001 - 2000
    assert statement.opening_minor + sum(line.amount_minor for line in statement.lines) == (
        statement.closing_minor
    )
    assert [line.balance_minor for line in statement.lines][-1] == statement.closing_minor
    assert [item.invoice for item in statement.open_invoices] == [early, late, recent]
    assert statement.open_total_minor == statement.closing_minor
    aging = {bucket.label: bucket.amount_minor for bucket in statement.aging}
    assert aging == {
        "Current": 1001,
        "1 to 30 days": 3555,
        "31 to 60 days": 10000,
        "61 to 90 days": 0,
        "Over 90 days": 0,
    }
    assert statement_pdf(statement).startswith(b"%PDF-")
