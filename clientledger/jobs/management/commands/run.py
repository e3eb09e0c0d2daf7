"""`clientledger run`: migrate, load the demo on first start, serve the app and the runner."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from clientledger.accounts.models import Agency
from clientledger.demo.data.agency import DEMO_PASSWORD, OWNER_EMAIL
from clientledger.demo.loader import demo_load


def sweeps_mode() -> str:
    """Who runs the background sweeps for this server (the gunicorn hook starts the thread)."""
    if settings.CELERY_BROKER_URL:
        return "Celery (run `clientledger worker` and one `clientledger beat`); no runner thread"
    if settings.RUN_EMBEDDED_RUNNER:
        return f"the embedded runner thread, every {settings.RUNNER_INTERVAL_SECONDS}s"
    return "off (RUN_EMBEDDED_RUNNER is false and CELERY_BROKER_URL is unset)"


class Command(BaseCommand):
    help = "Prepare the database and serve ClientLedger with gunicorn and the background runner."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Prepare everything, print the address, but do not serve.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        (settings.VAR_DIR / "mail").mkdir(exist_ok=True)
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Collecting static files…")
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"] and not Agency.objects.exists():
            self.stdout.write("First start: loading the demo agency…")
            demo_load(password=DEMO_PASSWORD, stdout=self.stdout)
        demo_owner = Agency.objects.filter(memberships__user__email=OWNER_EMAIL).exists()
        self.stdout.write(self.style.SUCCESS(f"\nClientLedger is at {settings.SITE_URL}/"))
        if demo_owner:
            self.stdout.write(f"Sign in as {OWNER_EMAIL} / {DEMO_PASSWORD}\n")
        self.stdout.write(f"Background sweeps: {sweeps_mode()}")
        if options["check"]:
            return
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        if gunicorn is None:
            raise CommandError("gunicorn is not installed; run `make run` to install it.")
        sys.stdout.flush()
        os.execv(
            gunicorn,
            [gunicorn, "--config", str(settings.BASE_DIR / "config" / "gunicorn.py")],
        )
