"""`clientledger beat`: the one Celery beat that triggers every sweep (CELERY_BROKER_URL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from clientledger.jobs.celery_app import app
from clientledger.jobs.management.commands.worker import broker_required


class Command(BaseCommand):
    help = (
        "Run Celery beat, which sends every background sweep to the workers each "
        "RUNNER_INTERVAL_SECONDS. Run exactly one per installation."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        broker_required("beat")
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        app.start(["beat", f"--loglevel={options['loglevel']}"])
