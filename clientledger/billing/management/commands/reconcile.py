"""`clientledger reconcile`: prove every cached client balance equals its ledger sum."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clientledger.accounts.commands import agency_option
from clientledger.billing.ledger import BalanceMismatch, credit_mismatches, ledger_mismatches
from clientledger.core.money import format_money, from_minor
from clientledger.crm.models import Client


class Command(BaseCommand):
    help = (
        "Compare each client's cached balance with the sum of its ledger entries, and each "
        "invoice's credited amount with its credit notes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--agency", type=int, metavar="ID", help="Check one agency only.")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = agency_option(options["agency"])
        clients = Client.objects.all() if agency is None else Client.objects.filter(agency=agency)
        mismatches = ledger_mismatches(agency=agency)
        credit_problems = credit_mismatches(agency=agency)
        if not mismatches and not credit_problems:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Ledger reconciled: {clients.count()} clients, "
                    "cached balances equal ledger sums. Credit notes agree with their "
                    "invoices and the ledger."
                )
            )
            return
        for mismatch in mismatches:
            self.stdout.write(_describe(mismatch))
        for problem in credit_problems:
            self.stdout.write(problem)
        raise CommandError(
            f"{len(mismatches)} client balance(s) differ from the ledger and "
            f"{len(credit_problems)} credit problem(s) were found; see the list above."
        )


def _describe(mismatch: BalanceMismatch) -> str:
    def money(minor: int) -> str:
        return format_money(from_minor(minor, mismatch.currency), mismatch.currency)

    return (
        f"Client {mismatch.client_id} {mismatch.client_name}: "
        f"cached {money(mismatch.cached_minor)}, ledger {money(mismatch.ledger_minor)}, "
        f"difference {money(mismatch.cached_minor - mismatch.ledger_minor)}"
    )
