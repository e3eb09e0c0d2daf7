"""The billing run as separate processes on PostgreSQL: two at once share the work, and one
killed (SIGKILL) at random points and run again leaves every period billed exactly once, the
numbers gapless and the ledger reconciled."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.recurring.models import BillingRun, PeriodAction
from tests.recurring.conftest import line
from tests.recurring.schedules import assert_every_due_period_billed_once, schedules_bulk_make

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs a database other processes can open, with row locks (SKIP LOCKED); "
        "CI runs these with DATABASE_URL=postgres://...",
    ),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
# 1,000 schedules and 50 kills with CLIENTLEDGER_BILLING_STRESS=1; fewer in the everyday suite.
STRESS = os.environ.get("CLIENTLEDGER_BILLING_STRESS") == "1"
SCHEDULES = 1000 if STRESS else 200
KILLS = 50 if STRESS else 10


def command_env() -> dict[str, str]:
    """The environment of a `clientledger` process on this test's database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "CLIENTLEDGER_TESTING": "true"}


def billing_run_process(as_of: str, *, chunk_size: int) -> subprocess.Popen[str]:
    command = ["billing", "run", "--as-of", as_of, "--chunk-size", str(chunk_size)]
    return subprocess.Popen(
        [sys.executable, "-u", "manage.py", *command],
        cwd=ROOT,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_runs_at_once_bill_every_period_exactly_once_with_gapless_numbers(
    agency: Agency,
) -> None:
    starts = [dt.date(2026, 9 + index % 3, 1 + index % 28) for index in range(SCHEDULES)]
    schedules_bulk_make(
        agency.pk, [line(), line("Hosting", "1", "40")], starts=starts, on_period="issue_and_send"
    )
    runs = [billing_run_process("2026-11-30", chunk_size=10) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert_every_due_period_billed_once(dt.date(2026, 11, 30))
    assert sum(len(list(periods_due_by(start))) for start in starts) == Invoice.objects.count()
    assert BillingRun.objects.filter(finished_at__isnull=False).count() == 2


def periods_due_by(start: dt.date) -> list[dt.date]:
    """The monthly period starts from `start` to 30 November 2026."""
    months = (2026 - start.year) * 12 + 11 - start.month
    return [
        dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)
        for k in range(months + 1)
    ]


def test_a_run_killed_at_random_points_and_run_again_bills_every_period_once(
    agency: Agency,
) -> None:
    seed = int(os.environ.get("CLIENTLEDGER_CRASH_SEED", time.time()))
    chance = random.Random(seed)
    schedules_bulk_make(
        agency.pk,
        [line(), line("Hosting", "1", "40")],
        starts=[dt.date(2024, 1, 1 + index % 28) for index in range(60)],
        on_period=PeriodAction.ISSUE_AND_SEND,
    )
    for kill in range(KILLS):
        # A month later each time: every rerun has new periods to bill besides what the last
        # kill left behind.
        as_of = dt.date(2024 + (kill + 1) // 12, (kill + 1) % 12 + 1, 15)
        process = billing_run_process(as_of.isoformat(), chunk_size=2)
        assert process.stdout is not None
        first_line = process.stdout.readline()  # the process is up and billing
        time.sleep(chance.uniform(0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        assert first_line.startswith("Billing run"), (seed, first_line)
    final = dt.date(2024 + KILLS // 12, KILLS % 12 + 1, 20)
    process = billing_run_process(final.isoformat(), chunk_size=2)
    output = process.communicate(timeout=600)[0]
    assert process.returncode == 0, output
    assert_every_due_period_billed_once(final)
    # Runs killed after some chunks committed: the kills did land while billing.
    interrupted = BillingRun.objects.filter(finished_at=None, invoices_created__gt=0)
    assert interrupted.exists(), f"seed {seed}: no kill landed while a run was billing"
