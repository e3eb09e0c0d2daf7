from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import ApiToken, Membership
from clientledger.accounts.roles import Role
from clientledger.accounts.services import (
    api_token_authenticate,
    api_token_create,
    membership_change_role,
)
from clientledger.core.models import AuditEvent
from tests.factories import unchecked_api_token

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_authenticates(
    sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(sales)

    created = http.post(reverse("accounts:token_create"), {"name": "Spreadsheet sync"})
    first_view = http.get(reverse("accounts:token_list"))
    second_view = http.get(reverse("accounts:token_list"))

    assert created.status_code == 302
    key = first_view.context["new_key"]
    assert key in first_view.content.decode()
    assert second_view.context["new_key"] is None
    assert key not in second_view.content.decode()
    token = api_token_authenticate(key)
    assert token is not None
    assert (token.user, token.name) == (sales.user, "Spreadsheet sync")


def test_a_token_needs_a_name(sales: Membership, login: Callable[[Membership], HttpClient]) -> None:
    response = login(sales).post(reverse("accounts:token_create"), {"name": "  "})

    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_my_own_tokens(
    sales: Membership, finance: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    mine, _ = api_token_create(user=sales.user, name="Mine")
    api_token_create(user=finance.user, name="Theirs")

    response = login(sales).get(reverse("accounts:token_list"))

    assert list(response.context["tokens"]) == [mine]


def test_revoking_a_token_stops_it_working(
    sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    token, key = api_token_create(user=sales.user, name="Old laptop")

    response = login(sales).post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 302
    assert api_token_authenticate(key) is None


def test_nobody_revokes_someone_elses_token(
    sales: Membership, owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    token, key = api_token_create(user=sales.user, name="Mine")

    response = login(owner).post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 404
    assert api_token_authenticate(key) is not None


def test_a_viewer_cannot_have_tokens(
    viewer: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(viewer)

    page = http.get(reverse("accounts:token_list"))
    created = http.post(reverse("accounts:token_create"), {"name": "Sneaky"})

    assert (page.status_code, created.status_code) == (403, 403)
    assert not ApiToken.objects.exists()


def test_the_token_service_refuses_a_role_the_table_bars_from_tokens(viewer: Membership) -> None:
    with pytest.raises(PermissionDenied, match="viewer"):
        api_token_create(user=viewer.user, name="Sneaky")

    assert not ApiToken.objects.exists()


def test_a_members_tokens_are_revoked_when_they_become_a_viewer(
    sales: Membership, owner: Membership
) -> None:
    token, key = api_token_create(user=sales.user, name="Spreadsheet sync")

    membership_change_role(membership=sales, actor=owner.user, role=Role.VIEWER)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(key) is None
    revoked = AuditEvent.objects.get(verb="api_token.revoked")
    assert (revoked.subject_id, revoked.actor) == (token.pk, owner.user)


def test_a_token_a_viewer_holds_from_before_authenticates_nobody(viewer: Membership) -> None:
    assert api_token_authenticate(unchecked_api_token(viewer)[1]) is None
