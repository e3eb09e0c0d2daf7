"""Reminders under real concurrency and crashes, on PostgreSQL: sweeps racing each other, a
payment racing the sweep, and a sweep killed with SIGKILL at random points and run again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.core.models import AuditEvent
from clientledger.notifications.models import EmailMessage
from clientledger.payments.audit_verbs import PaymentVerb
from clientledger.receivables.audit_verbs import InvoiceRemindersVerb
from clientledger.receivables.models import Reminder, ReminderOutcome, SkipReason
from clientledger.receivables.services.policies import reminder_policy_default
from clientledger.receivables.services.reminders import reminders_run
from tests.billing.test_concurrency import run_concurrently
from tests.factories import ClientFactory
from tests.receivables.conftest import at, day, invoice_for, pay

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks and a database other processes see; CI runs these "
        "with DATABASE_URL=postgres://...",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now", "media_root"),
]


def _overdue_invoices(agency: Agency, count: int, *, clients: int = 1) -> list[Invoice]:
    debtors = [
        ClientFactory(agency=agency, currency="USD", billing_email=f"ap{n}@client.example")
        for n in range(clients)
    ]
    return [invoice_for(debtors[n % clients], due_on=day(-1)) for n in range(count)]


def _assert_each_step_once_with_its_one_email() -> None:
    repeated = (
        Reminder.objects.values("invoice_id", "step_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert list(repeated) == []
    sent = Reminder.objects.filter(outcome=ReminderOutcome.SENT)
    assert sent.filter(email=None).count() == 0
    # Payments send their own receipts: the reminders are the emails saying "overdue".
    assert EmailMessage.objects.filter(subject__contains="overdue").count() == sent.count()


def test_four_concurrent_sweeps_send_each_reminder_once(agency: Agency) -> None:
    reminder_policy_default(agency=agency)
    invoices = _overdue_invoices(agency, 40)

    outcomes = run_concurrently([partial(reminders_run, as_of=at(0))] * 4, threads=4)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    _assert_each_step_once_with_its_one_email()
    assert Reminder.objects.filter(outcome=ReminderOutcome.SENT).count() == len(invoices)


def test_a_payment_recorded_while_the_sweep_runs_gets_no_reminder_after_it(
    agency: Agency,
) -> None:
    reminder_policy_default(agency=agency)
    invoices = _overdue_invoices(agency, 30, clients=30)
    payments = [partial(pay, invoice) for invoice in invoices]

    outcomes = run_concurrently([partial(reminders_run, as_of=at(0)), *payments], threads=8)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.PAID}
    for invoice in invoices:
        events = list(
            AuditEvent.objects.filter(
                client_id=invoice.client_id,
                verb__in=[InvoiceRemindersVerb.REMINDER_SENT, PaymentVerb.RECORDED],
            )
            .order_by("id")
            .values_list("verb", flat=True)
        )
        # Whatever the order, no reminder follows the payment that settled the invoice.
        assert events[-1] == PaymentVerb.RECORDED, events
        reminder = Reminder.objects.filter(invoice=invoice, step__offset_days=1).first()
        if reminder is not None and reminder.outcome == ReminderOutcome.SKIPPED:
            assert reminder.skip_reason == SkipReason.PAID
    _assert_each_step_once_with_its_one_email()
    assert ledger_mismatches() == []


def test_a_sweep_killed_at_random_points_and_run_again_sends_each_reminder_once(
    agency: Agency,
) -> None:
    reminder_policy_default(agency=agency)
    invoices = _overdue_invoices(agency, 150, clients=3)
    test_database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{test_database['USER']}:{test_database['PASSWORD'] or ''}"
            f"@{test_database['HOST']}:{test_database['PORT']}/{test_database['NAME']}"
        ),
        "CLIENTLEDGER_TESTING": "true",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(Path(sys.executable).parent / "clientledger"),
        "reminders",
        "run",
        "--as-of",
        day(0).isoformat(),
    ]
    killed_midway = 0
    chance = random.Random(12)
    for _ in range(3):
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, text=True
        )
        # The first progress line comes once Django is up and the sweep has begun.
        assert process.stdout is not None
        process.stdout.readline()
        time.sleep(chance.uniform(0.05, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        sent = Reminder.objects.filter(outcome=ReminderOutcome.SENT).count()
        killed_midway += 0 < sent < len(invoices)
        _assert_each_step_once_with_its_one_email()

    done = subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    _assert_each_step_once_with_its_one_email()
    assert Reminder.objects.filter(outcome=ReminderOutcome.SENT).count() == len(invoices)
    assert killed_midway >= 1
