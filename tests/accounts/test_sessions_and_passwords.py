"""Passwords of at least 12 characters (ASVS level 2), and signed-in sessions that end after
an idle period (SESSION_IDLE_TIMEOUT_MINUTES, 12 hours by default) unless used."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Role
from clientledger.accounts.services import user_invite
from tests.factories import PASSWORD
from tests.http import ClientResponse

pytestmark = pytest.mark.django_db

ELEVEN = "plum-orchar"
TWELVE = "plum-orchard"


def invitation_token(owner: Membership) -> str:
    _, token = user_invite(
        agency=owner.agency, actor=owner.user, email="new@example.com", role=Role.SALES
    )
    return token


def join_with(owner: Membership, client: HttpClient, password: str) -> ClientResponse:
    return client.post(
        reverse("accounts:accept", args=[invitation_token(owner)]),
        {"full_name": "Ada", "password1": password, "password2": password},
    )


def test_a_password_shorter_than_twelve_characters_is_refused_when_joining(
    owner: Membership, client: HttpClient
) -> None:
    response = join_with(owner, client, ELEVEN)

    assert response.status_code == 400
    assert "at least 12 characters" in str(response.context["form"].errors["password1"])


def test_a_password_of_twelve_characters_is_accepted_when_joining(
    owner: Membership, client: HttpClient
) -> None:
    assert join_with(owner, client, TWELVE).status_code == 302


def test_the_joining_form_asks_for_twelve_characters(owner: Membership, client: HttpClient) -> None:
    page = client.get(reverse("accounts:accept", args=[invitation_token(owner)]))

    assert "At least 12 characters" in page.content.decode()


def test_a_new_password_shorter_than_twelve_characters_is_refused(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": ELEVEN, "new_password2": ELEVEN},
    )

    assert response.status_code == 200
    assert "at least 12 characters" in str(response.context["form"].errors["new_password2"])


class Clock:
    """Moves Django's notion of now (sessions expire by it) forward."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.start = timezone.now()
        self.now = self.start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def signed_in(http: HttpClient) -> bool:
    return http.get(reverse("home")).status_code == 200


def test_sessions_end_after_twelve_idle_hours_by_default() -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60


def test_a_session_idle_longer_than_the_timeout_is_signed_out(
    owner: Membership, login: Callable[[Membership], HttpClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    http = login(owner)

    clock.advance(seconds=settings.SESSION_COOKIE_AGE + 1)

    assert not signed_in(http)


def test_using_the_app_keeps_the_session_alive_past_the_timeout(
    owner: Membership, login: Callable[[Membership], HttpClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    http = login(owner)

    for _ in range(3):
        clock.advance(seconds=settings.SESSION_COOKIE_AGE * 0.6)
        assert signed_in(http)
    clock.advance(seconds=settings.SESSION_COOKIE_AGE + 1)
    assert not signed_in(http)
