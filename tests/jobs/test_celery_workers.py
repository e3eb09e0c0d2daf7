"""Real Celery workers (`clientledger worker`, other processes) on the local Redis, billing
retainers and sending through a real SMTP server: every period billed once and every email
sent once, however many workers and duplicate tasks."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.drafts import estimate_create_from_deal
from clientledger.billing.services.sending import estimate_send
from clientledger.core import clock
from clientledger.notifications.models import EmailMessage, EmailStatus
from clientledger.recurring.models import PeriodAction
from tests.conftest import SmtpInbox, running_smtp_server
from tests.factories import AgencyFactory, DealLineFactory, TaxRateFactory
from tests.recurring.conftest import line
from tests.recurring.schedules import assert_every_due_period_billed_once, schedules_bulk_make

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the workers are other processes: they need the test database on a server "
        "(SQLite's test database lives in this process's memory); CI runs this with "
        "DATABASE_URL=postgres://...",
    ),
    pytest.mark.django_db(transaction=True),
]

REDIS_URL = "redis://127.0.0.1:6379/13"
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60
DONE_SECONDS = 30
# Each chunk task's result names its sweep; a chunked sweep's trigger answers how many chunk
# tasks it sent.
CHUNK_DONE = re.compile(
    r"Task clientledger\.sweep_chunk\[[^\]]+\] succeeded in \S+: \{'sweep': '(\w+)'"
)
SWEEP_SENT = re.compile(
    r"Task clientledger\.sweep\[([^\]]+)\] succeeded in \S+: \{'sweep': '\w+', 'chunks': (\d+)\}"
)


@dataclass
class Cluster:
    """What the workers share with this test: the queue, the mailbox and their logs."""

    queue: str
    inbox: SmtpInbox
    env: dict[str, str]
    logs: list[Path]
    sender: Celery

    def send_sweep(self, name: str) -> str:
        """What beat does: trigger one sweep. Answers the trigger task's id."""
        return str(self.sender.send_task("clientledger.sweep", args=(name,), queue=self.queue).id)

    def tasks_done(self, sweep: str) -> list[int]:
        """How many chunk tasks of `sweep` each worker has finished so far (beat's own
        triggers of other sweeps may run meanwhile: theirs are not counted)."""
        return [
            sum(name == sweep for name in CHUNK_DONE.findall(log.read_text())) for log in self.logs
        ]

    def chunks_sent(self, triggers: set[str]) -> list[int]:
        """How many chunk tasks each of the finished `triggers` (task ids) sent."""
        return [
            int(sent)
            for log in self.logs
            for trigger, sent in SWEEP_SENT.findall(log.read_text())
            if trigger in triggers
        ]


def database_url() -> str:
    """The test database, as the worker processes reach it."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return (
        f"postgres://{quote(db['USER'])}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(BIN / "clientledger"), *args],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition: Callable[[], bool], seconds: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            output = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
            pytest.fail(f"{what} within {seconds}s\n{output}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Cold shutdown: the test is over, no task of it is still running."""
    process.send_signal(signal.SIGQUIT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def cluster(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two `clientledger worker` processes on a queue of this module only."""
    queue = f"clientledger-test-{uuid.uuid4().hex}"
    var_dir = tmp_path_factory.mktemp("workers")
    with running_smtp_server() as (inbox, port):
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in ("RUN_EMBEDDED_RUNNER", "REDIS_URL")
        } | {
            "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue,
            "CLIENTLEDGER_TESTING": "true",
            "CLIENTLEDGER_VAR_DIR": str(var_dir),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
        logs = [var_dir / f"worker-{index}.log" for index in (1, 2)]
        workers = [start(["worker", "--pool=solo", "--loglevel=INFO"], env, log) for log in logs]
        sender = Celery(broker=REDIS_URL)
        try:
            wait_for(
                lambda: all(" ready." in log.read_text() for log in logs),
                STARTUP_SECONDS,
                "the workers were not ready",
                logs,
            )
            yield Cluster(queue=queue, inbox=inbox, env=env, logs=logs, sender=sender)
        finally:
            for worker in workers:
                stop(worker)
            sender.close()
            store = redis.Redis.from_url(REDIS_URL)
            store.delete(*store.keys(f"*{queue}*") or [queue])


@pytest.fixture
def inbox(cluster: Cluster) -> SmtpInbox:
    cluster.inbox.received.clear()
    return cluster.inbox


def queued(count: int) -> list[EmailMessage]:
    return [
        EmailMessage.objects.create(
            to=["ada@client.example"], subject=f"Message {number}", body_text="Hi"
        )
        for number in range(count)
    ]


def subjects(inbox: SmtpInbox) -> list[str]:
    return sorted(str(message["Subject"]) for message in inbox.received)  # type: ignore[index]


def all_sent(ids: list[int]) -> Callable[[], bool]:
    def check() -> bool:
        statuses = set(EmailMessage.objects.filter(pk__in=ids).values_list("status", flat=True))
        return statuses == {EmailStatus.SENT}

    return check


def test_a_worker_delivers_each_due_email_once_through_real_smtp(
    cluster: Cluster, inbox: SmtpInbox
) -> None:
    messages = queued(5)
    later = EmailMessage.objects.create(
        to=["ada@client.example"],
        subject="Tomorrow",
        body_text="Hi",
        next_attempt_at=messages[0].created_at + dt.timedelta(days=1),
    )

    cluster.send_sweep("drain_outbox")

    ids = [message.pk for message in messages]
    wait_for(all_sent(ids), DONE_SECONDS, "the emails were not sent", cluster.logs)
    assert subjects(inbox) == [f"Message {number}" for number in range(5)]
    assert (
        list(EmailMessage.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == [1] * 5
    )
    later.refresh_from_db()
    assert later.status == EmailStatus.QUEUED


def test_two_workers_draining_one_outbox_at_once_send_each_email_once(
    cluster: Cluster, inbox: SmtpInbox
) -> None:
    messages = queued(30)
    before = cluster.tasks_done("drain_outbox")

    # The four triggers are queued ahead of every chunk task they send, so each finds all
    # thirty emails due: every email is handed out four times, to whichever worker is free.
    for _ in range(4):
        cluster.send_sweep("drain_outbox")

    ids = [message.pk for message in messages]
    wait_for(all_sent(ids), DONE_SECONDS, "the emails were not sent", cluster.logs)
    wait_for(
        lambda: sum(cluster.tasks_done("drain_outbox")) - sum(before) == 4 * 30,
        DONE_SECONDS,
        "the duplicate tasks did not all run",
        cluster.logs,
    )
    assert subjects(inbox) == sorted(f"Message {number}" for number in range(30))
    done = cluster.tasks_done("drain_outbox")
    assert all(worker > earlier for worker, earlier in zip(done, before, strict=True))


def test_beat_triggers_the_sweeps_the_workers_render_and_send(
    cluster: Cluster, inbox: SmtpInbox
) -> None:
    vat = TaxRateFactory(percent=Decimal("19"))
    line = DealLineFactory(deal__client__agency=vat.agency, deal__agency=vat.agency, tax_1=vat)
    estimate = estimate_send(
        estimate=estimate_create_from_deal(deal=line.deal, actor=None),
        actor=None,
        recipients=["ap@client.example"],
    )
    beat_log = cluster.logs[0].with_name("beat.log")
    beat = start(
        ["beat", "--loglevel=INFO"], cluster.env | {"RUNNER_INTERVAL_SECONDS": "1"}, beat_log
    )
    try:
        wait_for(
            lambda: (
                Estimate.objects.get(pk=estimate.pk).pdf.name != ""
                and not EmailMessage.objects.exclude(status=EmailStatus.SENT).exists()
            ),
            DONE_SECONDS,
            "beat's sweeps did not render and send the estimate",
            [*cluster.logs, beat_log],
        )
    finally:
        stop(beat)
    assert "Sending due task sweep render_estimate_pdfs" in beat_log.read_text()
    [received] = inbox.received
    assert received["Subject"] == EmailMessage.objects.get().subject  # type: ignore[index]
    assert f"{estimate.number}.pdf" in str(received)


def test_workers_bill_each_agencys_retainers_once_and_send_each_invoice_once(
    cluster: Cluster, inbox: SmtpInbox
) -> None:
    # Three agencies: the billing run's trigger fans out one chunk task per agency, which the
    # two workers share. The trigger is sent twice, as two beats could: nothing twice.
    agencies = AgencyFactory.create_batch(3)  # in one time zone: one today
    today = clock.agency_today(agencies[0])
    for agency in agencies:
        two_months_ago = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
        starts = [two_months_ago + dt.timedelta(days=day) for day in range(5)]
        schedules_bulk_make(
            agency.pk, [line()], starts=starts, on_period=PeriodAction.ISSUE_AND_SEND
        )
    done = sum(cluster.tasks_done("billing_run"))
    triggers = {cluster.send_sweep("billing_run") for _ in range(2)}

    def both_triggers_done() -> bool:
        # The second trigger sends no chunk when the first one's are billed by then.
        sent = cluster.chunks_sent(triggers)
        return len(sent) == 2 and sum(cluster.tasks_done("billing_run")) - done >= sum(sent)

    wait_for(
        both_triggers_done,
        DONE_SECONDS,
        "the workers did not run every chunk of both triggers",
        cluster.logs,
    )
    assert_every_due_period_billed_once(today)
    invoices = Invoice.objects.count()

    cluster.send_sweep("drain_outbox")
    wait_for(
        lambda: EmailMessage.objects.filter(status=EmailStatus.SENT).count() == invoices,
        DONE_SECONDS,
        "the workers did not send every retainer invoice",
        cluster.logs,
    )
    # One email per invoice, carrying that invoice's PDF (numbers repeat across agencies).
    attached = [set(re.findall(r"(INV-[\d-]+)\.pdf", str(message))) for message in inbox.received]
    assert sorted(number for [number] in attached) == sorted(
        Invoice.objects.values_list("number", flat=True)
    )
