"""The embedded background runner: a daemon thread calling every sweep on an interval."""

from __future__ import annotations

import logging
import threading

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


class EmbeddedRunner(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(name="clientledger-runner", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        logger.info("background runner started (every %ss)", self.interval)
        while not self.stopping.is_set():
            close_old_connections()
            run_sweeps_once()
            close_old_connections()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()


def start_embedded_runner() -> EmbeddedRunner:
    runner = EmbeddedRunner(settings.RUNNER_INTERVAL_SECONDS)
    runner.start()
    return runner
