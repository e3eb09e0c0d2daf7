"""Login throttling: a few wrong passwords for one email address from one IP address pause
signing in there, whatever password comes next; other addresses and API tokens carry on."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.accounts.services import api_token_create
from clientledger.core.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins"
ATTACKER = "203.0.113.7"


def sign_in(email: str, password: str, *, ip: str = ATTACKER) -> tuple[int, str, HttpClient]:
    http = HttpClient(REMOTE_ADDR=ip)
    response = http.post(reverse("accounts:login"), {"username": email, "password": password})
    return response.status_code, response.content.decode(), http


def fail(email: str, times: int, *, ip: str = ATTACKER) -> list[int]:
    return [sign_in(email, "wrong-password", ip=ip)[0] for _ in range(times)]


def test_the_fifth_wrong_password_locks_signing_in_with_a_clear_message(
    owner: Membership,
) -> None:
    statuses = fail(owner.user.email, settings.AXES_FAILURE_LIMIT - 1)
    status, page, _ = sign_in(owner.user.email, "still-wrong")

    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert status == 429
    assert LOCKED in page
    assert "15 minutes" in page


def test_the_right_password_does_not_get_through_a_lockout(owner: Membership) -> None:
    fail(owner.user.email, settings.AXES_FAILURE_LIMIT)

    status, page, http = sign_in(owner.user.email, PASSWORD)

    assert status == 429
    assert LOCKED in page
    assert "_auth_user_id" not in http.session


def test_the_lockout_is_per_email_address_and_ip_address(
    owner: Membership, finance: Membership
) -> None:
    fail(owner.user.email, settings.AXES_FAILURE_LIMIT)

    assert sign_in(owner.user.email, PASSWORD, ip="198.51.100.20")[0] == 302
    assert sign_in(finance.user.email, PASSWORD)[0] == 302


def test_the_email_address_is_counted_whatever_its_case(owner: Membership) -> None:
    fail(owner.user.email.upper(), settings.AXES_FAILURE_LIMIT)

    assert sign_in(owner.user.email, PASSWORD)[0] == 429


def test_signing_in_works_again_after_the_cool_off(owner: Membership) -> None:
    fail(owner.user.email, settings.AXES_FAILURE_LIMIT)
    # The failures were recorded a cool-off period (and a second) ago.
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    )

    assert sign_in(owner.user.email, PASSWORD)[0] == 302


def test_a_successful_sign_in_starts_the_count_again(owner: Membership) -> None:
    fail(owner.user.email, settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(owner.user.email, PASSWORD)[0] == 302

    assert fail(owner.user.email, settings.AXES_FAILURE_LIMIT - 1) == [200] * (
        settings.AXES_FAILURE_LIMIT - 1
    )
    assert sign_in(owner.user.email, PASSWORD)[0] == 302


def test_an_unknown_email_address_is_locked_out_with_the_same_message(db: None) -> None:
    fail("nobody@example.com", settings.AXES_FAILURE_LIMIT)

    status, page, _ = sign_in("nobody@example.com", PASSWORD)

    assert (status, LOCKED in page) == (429, True)
    assert not AuditEvent.objects.exists()


def test_a_lockout_is_audited_once_in_the_members_agency(owner: Membership) -> None:
    fail(owner.user.email, settings.AXES_FAILURE_LIMIT + 3)

    event = AuditEvent.objects.get(verb="member.locked_out")
    assert (event.agency, event.actor, event.subject_id) == (owner.agency, None, owner.pk)
    assert event.data == {"ip_address": ATTACKER, "failures": settings.AXES_FAILURE_LIMIT}


def test_api_tokens_keep_working_while_signing_in_is_locked(owner: Membership) -> None:
    _token, key = api_token_create(user=owner.user, name="Nightly export")
    fail(owner.user.email, settings.AXES_FAILURE_LIMIT)

    response = HttpClient(REMOTE_ADDR=ATTACKER).get(
        "/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {key}"
    )

    assert response.status_code == 200
