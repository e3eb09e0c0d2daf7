"""`clientledger run`'s server: one gunicorn worker per core, each starting the embedded
runner, of which only the one holding the lock sweeps."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from clientledger.jobs import runner
from clientledger.jobs.runner import EmbeddedRunner, RunnerLock


def test_the_runner_lock_is_held_by_one_holder_until_it_lets_go(tmp_path: Path) -> None:
    first, second = RunnerLock(tmp_path / "runner.lock"), RunnerLock(tmp_path / "runner.lock")

    assert (first.acquire(), second.acquire(), first.acquire()) == (True, False, True)
    first.file.close()  # its process exited
    assert second.acquire() is True


def test_a_runner_sweeps_only_while_it_holds_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes: list[str] = []

    def sweep() -> dict[str, dict[str, int]]:
        passes.append(threading.current_thread().name)
        return {}

    monkeypatch.setattr(runner, "run_sweeps_once", sweep)
    sweeping_process = RunnerLock(tmp_path / "runner.lock")
    assert sweeping_process.acquire()
    waiting = EmbeddedRunner(0.01, RunnerLock(tmp_path / "runner.lock"))
    waiting.start()
    try:
        time.sleep(0.2)
        assert passes == []
        sweeping_process.file.close()
        deadline = time.monotonic() + 5
        while not passes and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        waiting.stop()
        waiting.join()

    assert passes and set(passes) == {"clientledger-runner"}


def gunicorn_settings(tmp_path: Path, **env: str) -> str:
    """Workers, threads and keep-alive as config/gunicorn.py reads them in a fresh process."""
    environ = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "WEB_THREADS")}
    environ |= {"CLIENTLEDGER_VAR_DIR": str(tmp_path), "CLIENTLEDGER_EMBEDDED": "true", **env}
    script = (
        "import runpy; c = runpy.run_path('config/gunicorn.py'); "
        "print(c['workers'], c['threads'], c['keepalive'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_the_server_runs_one_worker_per_usable_core_unless_told(tmp_path: Path) -> None:
    cores = len(os.sched_getaffinity(0))

    assert gunicorn_settings(tmp_path) == f"{cores} 4 0"
    assert gunicorn_settings(tmp_path, WEB_CONCURRENCY="3", WEB_THREADS="2") == "3 2 0"


def test_a_worker_puts_the_loaded_app_out_of_the_collectors_reach(tmp_path: Path) -> None:
    environ = os.environ | {"CLIENTLEDGER_VAR_DIR": str(tmp_path), "CLIENTLEDGER_EMBEDDED": "true"}
    environ["RUN_EMBEDDED_RUNNER"] = "false"  # no sweeping thread in this process
    script = (
        "import gc, runpy, django; django.setup(); c = runpy.run_path('config/gunicorn.py'); "
        "before = gc.get_freeze_count(); c['post_worker_init'](None); "
        "print(before, gc.get_freeze_count() > 50_000)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environ | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert done.stdout.split() == ["0", "True"]
