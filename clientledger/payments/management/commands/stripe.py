"""`clientledger stripe <subcommand>`: Stripe maintenance from the command line.

- `reprocess EVT_ID [EVT_ID ...]` or `reprocess --failed [--agency ID]`: apply stored webhook
  events again, as the inbox page's Reprocess button does.
- `reconcile [--days N] [--agency ID]`: fetch the recent events of every Stripe account in use,
  apply the ones a lost webhook missed, and read back every payment still pending. Running it
  twice changes nothing.

Each subcommand is a subparser whose `run` default names the method that handles it.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clientledger.accounts.commands import agency_option
from clientledger.core import clock
from clientledger.payments.models import StripeEvent, StripeEventStatus
from clientledger.payments.stripe.account import stripe_event_reprocess
from clientledger.payments.stripe.client import StripeError
from clientledger.payments.stripe.inbox import RECONCILE_DEFAULT_DAYS, stripe_reconcile


class Command(BaseCommand):
    help = "Stripe maintenance: reprocess stored webhook events, reconcile with Stripe."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        reprocess = subcommands.add_parser(
            "reprocess", help="Apply stored webhook events again (failed ones, or by Stripe id)."
        )
        chosen = reprocess.add_mutually_exclusive_group(required=True)
        chosen.add_argument(
            "event_ids", nargs="*", default=[], metavar="EVT_ID", help="Stripe event ids."
        )
        chosen.add_argument("--failed", action="store_true", help="Every failed event.")
        reprocess.add_argument("--agency", type=int, metavar="ID", help="One agency's only.")
        reprocess.set_defaults(run=self.reprocess)
        reconcile = subcommands.add_parser(
            "reconcile", help="Fetch recent events from Stripe and repair what webhooks missed."
        )
        reconcile.add_argument(
            "--days",
            type=_days,
            default=RECONCILE_DEFAULT_DAYS,
            help=f"How far back to look (1-30, default {RECONCILE_DEFAULT_DAYS}).",
        )
        reconcile.add_argument("--agency", type=int, metavar="ID", help="One agency's only.")
        reconcile.set_defaults(run=self.reconcile)

    def handle(self, *args: Any, run: Callable[..., None], **options: Any) -> None:
        run(**options)

    def reconcile(self, *, days: int, agency: int | None, **options: Any) -> None:
        chosen = agency_option(agency)
        since = clock.now() - dt.timedelta(days=days)
        self.stdout.write(f"Fetching Stripe events since {since:%Y-%m-%d %H:%M} UTC ...")
        try:
            report = stripe_reconcile(since=since, agency=chosen)
        except StripeError as error:
            raise CommandError(f"Stripe could not be read: {error.user_message or error}") from None
        self.stdout.write(
            f"{report.accounts} Stripe account(s), {report.fetched} event(s) fetched: "
            f"{report.new} new, {report.repaired} repaired."
        )
        if report.ignored:
            self.stdout.write(
                f"{report.ignored} event(s) about payments ClientLedger did not create, ignored."
            )
        for failure in report.failed:
            self.stdout.write(self.style.ERROR(failure))
        if report.failed:
            raise CommandError(f"{len(report.failed)} item(s) could not be applied; see above.")
        self.stdout.write(self.style.SUCCESS("Stripe reconciled."))

    def reprocess(
        self, *, event_ids: list[str], failed: bool, agency: int | None, **options: Any
    ) -> None:
        events = StripeEvent.objects.order_by("received_at", "id")
        if agency is not None:
            events = events.filter(agency=agency_option(agency))
        if failed:
            chosen = list(events.filter(status=StripeEventStatus.FAILED))
            missing: list[str] = []
        else:
            wanted = list(dict.fromkeys(event_ids))
            found = {event.stripe_id: event for event in events.filter(stripe_id__in=wanted)}
            chosen = [found[stripe_id] for stripe_id in wanted if stripe_id in found]
            missing = [stripe_id for stripe_id in wanted if stripe_id not in found]
        for stripe_id in missing:
            self.stdout.write(self.style.ERROR(f"{stripe_id}: no such event"))
        if not chosen and not missing:
            self.stdout.write("No failed Stripe events.")
            return
        outcomes = Counter(self._reprocess_one(event) for event in chosen)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.stdout.write(f"{len(chosen)} event(s) reprocessed: {summary or 'none'}.")
        not_processed = outcomes[StripeEventStatus.FAILED] + len(missing)
        if not_processed:
            raise CommandError(f"{not_processed} event(s) not processed; see the lines above.")

    def _reprocess_one(self, event: StripeEvent) -> str:
        try:
            outcome = stripe_event_reprocess(event=event, actor=None)
        except ValidationError as error:
            # Already processed: nothing to do, and nothing wrong.
            self.stdout.write(f"{event.stripe_id}: {' '.join(error.messages)}")
            return event.status
        if outcome.status == StripeEventStatus.FAILED:
            self.stdout.write(self.style.ERROR(f"{event.stripe_id}: failed: {outcome.error}"))
        else:
            self.stdout.write(self.style.SUCCESS(f"{event.stripe_id}: {outcome.status}"))
        return outcome.status


def _days(value: str) -> int:
    # Stripe keeps events for 30 days.
    if not value.isdigit() or not 1 <= int(value) <= 30:
        raise argparse.ArgumentTypeError("give a whole number of days from 1 to 30")
    return int(value)
