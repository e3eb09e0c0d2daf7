"""`clientledger worker`: a Celery worker running the sweeps' tasks (CELERY_BROKER_URL)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clientledger.jobs.celery_app import app

POOLS = ("prefork", "threads", "solo")


def broker_required(command: str) -> None:
    if not settings.CELERY_BROKER_URL:
        raise CommandError(
            f"CELERY_BROKER_URL is not set: `clientledger {command}` needs a broker (e.g. "
            "redis://127.0.0.1:6379/0). Without one, `clientledger run` sweeps in its own "
            "thread."
        )


class Command(BaseCommand):
    help = "Run a Celery worker for the background sweeps (needs CELERY_BROKER_URL)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Processes (or threads) of this worker; default: one per CPU.",
        )
        parser.add_argument("--pool", choices=POOLS, default="prefork")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        broker_required("worker")
        argv = [
            "worker",
            f"--pool={options['pool']}",
            f"--loglevel={options['loglevel']}",
            f"--queues={settings.CELERY_TASK_DEFAULT_QUEUE}",
            # Several workers on one machine each need a name of their own.
            f"--hostname=clientledger-{os.getpid()}@%h",
            # Workers share nothing but the queue: no start-up sync, no chatter between them.
            "--without-mingle",
            "--without-gossip",
        ]
        if options["concurrency"] is not None:
            argv.append(f"--concurrency={options['concurrency']}")
        app.worker_main(argv)
