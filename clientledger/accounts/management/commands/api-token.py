"""`clientledger api-token --email EMAIL [--name NAME]`: print a new API token key.

Only the key goes to stdout so that scripts can capture it (TOKEN=$(clientledger api-token ...)).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clientledger.accounts.models import Membership
from clientledger.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for a user and print its key (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The email address of the user.")
        parser.add_argument(
            "--name", default="Command line", help="A name for the token (default: %(default)s)."
        )

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        membership = (
            Membership.objects.select_related("user")
            .filter(user__email=email.strip().lower())
            .first()
        )
        if membership is None:
            raise CommandError(f"No member of any agency has the email address {email!r}.")
        if not membership.user.is_active:
            raise CommandError(f"The user {email!r} is deactivated; their tokens would not work.")
        try:
            _, key = api_token_create(user=membership.user, name=name)
        except PermissionDenied as exc:
            raise CommandError(f"{email}: {exc}") from exc
        self.stdout.write(key)
