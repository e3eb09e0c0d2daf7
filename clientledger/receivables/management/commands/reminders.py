"""`clientledger reminders run [--as-of DATE] [--agency ID] [--dry-run]`: send the payment
reminders and estimate follow-ups due, each once; the runner's sweep does the same."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clientledger.accounts.commands import agency_option
from clientledger.core import clock
from clientledger.receivables.services.reminders import reminders_run


def _as_of(value: str) -> dt.date | dt.datetime:
    """A date (that day at each agency's sending hour) or an ISO moment with its offset."""
    try:
        if "T" not in value and " " not in value:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{value}” is not a date (2026-12-01) or a moment (2026-12-01T09:30+00:00)."
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("Give the moment's UTC offset, e.g. +00:00.")
    return moment


class Command(BaseCommand):
    help = "Payment reminders and estimate follow-ups."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        run = subcommands.add_parser("run", help="Send the reminders due, each once.")
        run.add_argument(
            "--as-of",
            type=_as_of,
            metavar="DATE",
            help="Run as on this date (at each agency's sending hour) or at this moment.",
        )
        run.add_argument("--agency", type=int, metavar="ID", help="One agency's only.")
        run.add_argument(
            "--dry-run", action="store_true", help="List what would be sent; send nothing."
        )
        run.set_defaults(run=self.run)

    def handle(self, *args: Any, run: Callable[..., None], **options: Any) -> None:
        run(**options)

    def run(
        self, *, as_of: dt.date | dt.datetime | None, agency: int | None, dry_run: bool, **_: Any
    ) -> None:
        summary = reminders_run(
            as_of=as_of or clock.now(),
            agency=agency_option(agency),
            dry_run=dry_run,
            progress=self.stdout.write,
        )
        for line in summary.planned:
            self.stdout.write(f"  would send {line}")
        counts = summary.as_counts()
        told = ", ".join(
            f"{count} {outcome.replace('_', ' ')}" for outcome, count in sorted(counts.items())
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Dry run: ' if dry_run else ''}{summary.policies} policy pass(es), "
                f"{summary.documents_checked} document(s) checked"
                + (f": {told}." if told else "; nothing due.")
            )
        )
