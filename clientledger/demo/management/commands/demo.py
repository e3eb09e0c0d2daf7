"""`clientledger demo`: load the Brightside Digital demo agency once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clientledger.demo.data.agency import DEMO_PASSWORD, OWNER_EMAIL
from clientledger.demo.loader import demo_load


class Command(BaseCommand):
    help = "Create the demo agency with its team, catalog, clients and deals (once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password of every demo user (default: {DEMO_PASSWORD}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = demo_load(password=options["password"], stdout=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if created:
            self.stdout.write(f"Owner login: {OWNER_EMAIL} / {options['password']}")
