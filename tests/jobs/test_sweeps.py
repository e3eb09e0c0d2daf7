"""The sweeps in both modes: chunked sweeps run inline by the embedded runner, beat's schedule
for Celery, and which of the two a configuration starts."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from clientledger.billing.documents.build import document_pdfs_render
from clientledger.billing.models import Estimate
from clientledger.billing.services.drafts import estimate_create_from_deal
from clientledger.billing.services.sending import estimate_send
from clientledger.jobs import tasks
from clientledger.jobs.management.commands.run import sweeps_mode
from clientledger.jobs.sweeps import SWEEPS, ChunkedSweep
from clientledger.jobs.tasks import sweeps_beat_schedule
from clientledger.notifications.models import EmailMessage
from tests.factories import DealLineFactory, TaxRateFactory

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def test_a_chunked_sweep_runs_every_chunk_and_a_failing_chunk_stops_no_other() -> None:
    done: list[list[int]] = []

    def due(*, as_of: dt.datetime, size: int) -> Iterator[list[int]]:
        ids = [1, 2, 3, 4, 5]
        return iter([ids[start : start + size] for start in range(0, len(ids), size)])

    def run(*, ids: list[int], as_of: dt.datetime) -> dict[str, int]:
        if 3 in ids:
            raise RuntimeError("this chunk breaks")
        done.append(ids)
        return {"done": len(ids)}

    sweep = ChunkedSweep(due_chunks=due, run_chunk=run, size=2)

    assert sweep(as_of=NOW) == {"done": 3, "failed_chunks": 1}
    assert done == [[1, 2], [5]]


@pytest.mark.django_db
def test_the_pdf_sweep_stores_each_issued_documents_pdf_once(
    settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    vat = TaxRateFactory(percent=Decimal("19"))
    line = DealLineFactory(deal__client__agency=vat.agency, deal__agency=vat.agency, tax_1=vat)
    draft = estimate_create_from_deal(deal=line.deal, actor=None)
    sent = estimate_send(
        estimate=estimate_create_from_deal(deal=line.deal, actor=None),
        actor=None,
        recipients=["ap@client.example"],
    )

    assert SWEEPS["render_estimate_pdfs"](as_of=NOW) == {"rendered": 1}
    assert SWEEPS["render_estimate_pdfs"](as_of=NOW) == {}
    assert document_pdfs_render(Estimate, ids=[sent.pk, draft.pk]) == {}
    sent.refresh_from_db()
    draft.refresh_from_db()
    assert str(sent.pdf.name).endswith(f"{sent.number}.pdf")
    assert draft.pdf.name == ""


def test_beat_triggers_every_sweep_each_interval_and_drops_a_trigger_left_waiting() -> None:
    schedule = sweeps_beat_schedule(30)

    assert [entry["args"] for entry in schedule.values()] == [(name,) for name in SWEEPS]
    assert {entry["task"] for entry in schedule.values()} == {"clientledger.sweep"}
    assert {entry["schedule"] for entry in schedule.values()} == {30.0}
    assert {entry["options"]["expires"] for entry in schedule.values()} == {30.0}


def settings_of_a_process(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Django's settings as a process started with `env` (and no test settings) sees them."""
    unset = ("CELERY_BROKER_URL", "RUN_EMBEDDED_RUNNER", "CLIENTLEDGER_TESTING", "SECRET_KEY")
    environ = {name: value for name, value in os.environ.items() if name not in unset}
    environ |= {"CLIENTLEDGER_VAR_DIR": str(tmp_path), "CLIENTLEDGER_EMBEDDED": "true", **env}
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.RUN_EMBEDDED_RUNNER)"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_run_sweeps_in_its_thread_until_a_broker_is_set(tmp_path: Path) -> None:
    embedded = settings_of_a_process(tmp_path)
    with_broker = settings_of_a_process(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/13")

    assert embedded.stdout == "True\n", embedded.stderr
    assert with_broker.stdout == "False\n", with_broker.stderr


def test_asking_for_both_the_runner_thread_and_a_broker_is_refused(tmp_path: Path) -> None:
    both = settings_of_a_process(
        tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/13", RUN_EMBEDDED_RUNNER="true"
    )

    assert both.returncode != 0
    assert "unset RUN_EMBEDDED_RUNNER" in both.stderr


def test_clientledger_run_says_who_sweeps(settings: Settings) -> None:
    settings.RUNNER_INTERVAL_SECONDS = 30
    settings.CELERY_BROKER_URL = None
    settings.RUN_EMBEDDED_RUNNER = True
    assert sweeps_mode() == "the embedded runner thread, every 30s"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/13"
    settings.RUN_EMBEDDED_RUNNER = False
    assert sweeps_mode().startswith("Celery (run `clientledger worker`")


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_celery_commands_refuse_to_start_without_a_broker(command: str, settings: Settings) -> None:
    settings.CELERY_BROKER_URL = None
    with pytest.raises(CommandError, match="CELERY_BROKER_URL is not set"):
        call_command(command)


@pytest.mark.django_db
def test_a_chunked_sweeps_trigger_sends_one_expiring_task_per_due_email(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.RUNNER_INTERVAL_SECONDS = 30
    first, second = (
        EmailMessage.objects.create(to=["ada@client.example"], subject=subject, body_text="Hi")
        for subject in ("One", "Two")
    )
    sent: list[tuple[tuple[object, ...], float]] = []
    monkeypatch.setattr(
        tasks.sweep_chunk,
        "apply_async",
        lambda args, expires: sent.append((args, expires)),
    )

    assert tasks.sweep.run("drain_outbox") == {"sweep": "drain_outbox", "chunks": 2}

    assert [(args[:2], expires) for args, expires in sent] == [
        (("drain_outbox", [first.pk]), 30.0),
        (("drain_outbox", [second.pk]), 30.0),
    ]
    assert mail.outbox == []
    name, ids, as_of = sent[0][0]
    assert tasks.sweep_chunk.run(name, ids, as_of) == {"sweep": "drain_outbox", "sent": 1}
    assert tasks.sweep_chunk.run(name, ids, as_of) == {"sweep": "drain_outbox"}
    assert [message.subject for message in mail.outbox] == ["One"]


def test_a_chunk_of_a_sweep_that_is_not_chunked_is_refused() -> None:
    with pytest.raises(TypeError, match="not chunked"):
        tasks.sweep_chunk.run("expire_estimates", [1], NOW.isoformat())
