"""`clientledger billing run [--as-of DATE] [--agency ID]`: bill every recurring period due.

The background runner calls the same run every pass (`jobs.sweeps`); this command is for a
first catch-up, a cron, or to see the progress and the failures of a run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clientledger.accounts.commands import agency_option
from clientledger.core import clock
from clientledger.recurring.models import BillingRunFailure
from clientledger.recurring.services.billing_run import (
    CHUNK_SIZE,
    BillingRunResult,
    billing_run,
)

# A progress line at most this often, however small the chunks.
PROGRESS_EVERY_SECONDS = 1.0


def _moment(value: str) -> dt.datetime:
    """A date is taken at noon UTC: the same date in every time zone from UTC-12 to UTC+11."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{value}” is not a date (YYYY-MM-DD) or a moment (YYYY-MM-DDTHH:MM+00:00)."
        ) from None
    if len(value) == len("YYYY-MM-DD"):
        return moment.replace(hour=12, tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"“{value}” is not a whole number of at least 1.")
    return int(value)


class Command(BaseCommand):
    help = "Recurring billing: generate, issue and send every retainer invoice that is due."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        run = subcommands.add_parser(
            "run", help="Bill every period due by a date, catching up missed periods."
        )
        run.add_argument(
            "--as-of",
            type=_moment,
            default=None,
            metavar="DATE",
            help="Bill what is due by this date (YYYY-MM-DD, or a moment); default: now.",
        )
        run.add_argument("--agency", type=int, metavar="ID", help="One agency's only.")
        run.add_argument(
            "--chunk-size",
            type=_positive,
            default=CHUNK_SIZE,
            metavar="N",
            help=f"Schedules billed per transaction (default {CHUNK_SIZE}).",
        )
        run.set_defaults(run=self.run)

    def handle(self, *args: Any, run: Callable[..., None], **options: Any) -> None:
        run(**options)

    def run(
        self, *, as_of: dt.datetime | None, agency: int | None, chunk_size: int, **options: Any
    ) -> None:
        moment = as_of or clock.now()
        chosen = agency_option(agency)
        scope = f"agency {chosen.pk} ({chosen.name})" if chosen else "every agency"
        self.stdout.write(f"Billing run as of {moment:%Y-%m-%d %H:%M} UTC, {scope}.")
        shown = [time.monotonic(), False]

        def progress(result: BillingRunResult) -> None:
            if not shown[1]:
                self.stdout.write(f"{result.schedules_due:,} schedule(s) due.")
                shown[1] = True
            if time.monotonic() - float(shown[0]) >= PROGRESS_EVERY_SECONDS:
                shown[0] = time.monotonic()
                self.stdout.write(_progress_line(result))

        result = billing_run(as_of=moment, agency=chosen, progress=progress, chunk_size=chunk_size)
        self.stdout.write(_progress_line(result))
        style = self.style.WARNING if result.schedules_failed else self.style.SUCCESS
        self.stdout.write(
            style(
                f"Done in {result.seconds:.1f} s: {result.periods_due:,} period(s) due, "
                f"{result.invoices_created:,} invoices created, "
                f"{result.schedules_failed:,} schedules failed, "
                f"{result.schedules_skipped:,} billed by another run; "
                f"{result.rate:,.0f} invoices/s."
            )
        )
        failures = BillingRunFailure.objects.filter(run=result.run).select_related("schedule")
        for failure in failures.order_by("schedule_id"):
            self.stdout.write(
                self.style.ERROR(
                    f"Schedule {failure.schedule_id} “{failure.schedule}”: {failure.reason}"
                )
            )


def _progress_line(result: BillingRunResult) -> str:
    return (
        f"  schedules {result.schedules_done:,}/{result.schedules_due:,} · "
        f"periods due {result.periods_due:,} · done {result.invoices_created:,} · "
        f"failed {result.schedules_failed:,} · {result.rate:,.0f} invoices/s"
    )
