from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clientledger.accounts.models import ApiToken, Membership, User
from clientledger.accounts.services import api_token_authenticate

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    stdout = io.StringIO()
    call_command("api-token", *args, stdout=stdout)
    return stdout.getvalue()


def test_the_command_prints_only_a_key_that_authenticates(finance: Membership) -> None:
    output = run("--email", finance.user.email.upper(), "--name", "Nightly export")

    key = output.strip()
    assert output == f"{key}\n"
    token = api_token_authenticate(key)
    assert token is not None
    assert (token.user, token.name) == (finance.user, "Nightly export")


def test_an_unknown_email_fails_with_a_clear_message(finance: Membership) -> None:
    with pytest.raises(CommandError, match=r"nobody@example\.com"):
        run("--email", "nobody@example.com")


def test_a_deactivated_user_gets_no_token(finance: Membership) -> None:
    User.objects.filter(pk=finance.user.pk).update(is_active=False)

    with pytest.raises(CommandError, match="deactivated"):
        run("--email", finance.user.email)


def test_a_viewer_gets_no_token_because_the_role_table_bars_viewers(viewer: Membership) -> None:
    with pytest.raises(CommandError, match="viewer"):
        run("--email", viewer.user.email)

    assert not ApiToken.objects.exists()
