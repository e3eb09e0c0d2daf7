"""The embedded runner: every web worker process starts one, the one holding the lock sweeps."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

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
