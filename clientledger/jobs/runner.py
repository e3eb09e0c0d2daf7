"""The embedded background runner: a daemon thread calling every sweep on an interval.

Every web worker process of `clientledger run` starts one, and the one holding the runner
lock (a file lock under `VAR_DIR`) sweeps: one process of the machine at a time, and when it
exits another takes over at its next interval.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections

from clientledger.core import clock
from clientledger.jobs.sweeps import SWEEPS

logger = logging.getLogger(__name__)


def run_sweeps_once() -> dict[str, dict[str, int]]:
    results: dict[str, dict[str, int]] = {}
    for name, sweep in SWEEPS.items():
        try:
            results[name] = sweep(as_of=clock.now())
        except Exception:  # one failing sweep must not stop the others or the thread
            logger.exception("sweep %s failed", name)
    return results


class RunnerLock:
    """An exclusive lock on a file, kept until the process exits once taken."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a")
        self.held = False

    def acquire(self) -> bool:
        """Whether this process holds the lock (taking it if it is free)."""
        if not self.held:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self.held = True
        return True


class EmbeddedRunner(threading.Thread):
    def __init__(self, interval: float, lock: RunnerLock) -> None:
        super().__init__(name="clientledger-runner", daemon=True)
        self.interval = interval
        self.lock = lock
        self.stopping = threading.Event()

    def run(self) -> None:
        logger.info("background runner started (every %ss)", self.interval)
        while not self.stopping.is_set():
            if self.lock.acquire():
                close_old_connections()
                run_sweeps_once()
                close_old_connections()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()


def start_embedded_runner() -> EmbeddedRunner:
    lock = RunnerLock(settings.VAR_DIR / "runner.lock")
    runner = EmbeddedRunner(settings.RUNNER_INTERVAL_SECONDS, lock)
    runner.start()
    return runner
