from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Invitation, Membership, User
from clientledger.accounts.roles import Role
from clientledger.accounts.services import user_invite
from clientledger.core import clock
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-orchard-lantern-77"


def invite(owner: Membership, email: str = "new@example.com", role: str = Role.FINANCE) -> str:
    _, token = user_invite(agency=owner.agency, actor=owner.user, email=email, role=role)
    return token


def test_an_invited_person_joins_with_the_role_they_were_given(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:member_invite"), {"email": "Grace@Example.com", "role": Role.FINANCE}
    )
    assert response.status_code == 302

    message = EmailMessage.objects.get()
    assert message.to == ["grace@example.com"]
    link_start = email_render(message).text.index("/accounts/invite/")
    accept_path = email_render(message).text[link_start:].split()[0]
    assert accept_path in email_render(message).html

    visitor = HttpClient()
    page = visitor.get(accept_path)
    assert page.status_code == 200
    assert owner.agency.name in page.content.decode()
    assert "Finance" in page.content.decode()

    joined = visitor.post(
        accept_path,
        {"full_name": "Grace Hopper", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert joined.status_code == 302
    assert joined["Location"] == reverse("home")
    member = Membership.objects.select_related("user").get(user__email="grace@example.com")
    assert member.agency == owner.agency
    assert member.role == Role.FINANCE
    assert visitor.session["_auth_user_id"] == str(member.user.pk)
    signed_in = HttpClient().post(
        reverse("accounts:login"), {"username": "grace@example.com", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302


@pytest.mark.parametrize("persona", ["admin", "finance", "sales", "viewer"])
def test_only_the_owner_can_invite(
    persona: str, request: pytest.FixtureRequest, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(request.getfixturevalue(persona)).post(
        reverse("accounts:member_invite"), {"email": "new@example.com", "role": Role.VIEWER}
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert not EmailMessage.objects.exists()


def test_inviting_someone_who_has_an_account_shows_the_error_inline(
    owner: Membership, sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:member_invite"), {"email": sales.user.email, "role": Role.VIEWER}
    )

    assert response.status_code == 400
    assert response.context["invite_form"].errors["email"] == [
        "This person already has a ClientLedger account."
    ]
    assert not EmailMessage.objects.exists()


def test_inviting_someone_with_an_account_in_another_agency_looks_like_any_invitation(
    owner: Membership, outsider: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)

    elsewhere = http.post(
        reverse("accounts:member_invite"), {"email": outsider.user.email, "role": Role.VIEWER}
    )
    nowhere = http.post(
        reverse("accounts:member_invite"), {"email": "new@example.com", "role": Role.VIEWER}
    )

    assert (elsewhere.status_code, elsewhere["Location"]) == (
        nowhere.status_code,
        nowhere["Location"],
    )
    flashes = [
        str(message) for message in http.get(reverse("accounts:member_list")).context["messages"]
    ]
    assert flashes == [
        f"Invitation sent to {outsider.user.email}.",
        "Invitation sent to new@example.com.",
    ]
    assert Invitation.objects.filter(email=outsider.user.email, agency=owner.agency).exists()
    assert EmailMessage.objects.count() == 2


def test_a_person_with_an_account_elsewhere_learns_on_the_invitation_page_they_cannot_join(
    owner: Membership, outsider: Membership, client: HttpClient
) -> None:
    token = invite(owner, email=outsider.user.email)

    page = client.get(reverse("accounts:accept", args=[token]))
    tried = client.post(
        reverse("accounts:accept", args=[token]),
        {"full_name": "Ada", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert page.status_code == 409
    assert "already has a ClientLedger account" in page.content.decode()
    assert 'type="password"' not in page.content.decode()
    assert tried.status_code == 409
    assert Membership.objects.get(user=outsider.user).agency == outsider.agency


def test_nobody_can_be_invited_as_owner(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:member_invite"), {"email": "new@example.com", "role": Role.OWNER}
    )

    assert response.status_code == 400
    assert "role" in response.context["invite_form"].errors
    assert not Invitation.objects.exists()


def test_an_expired_invitation_is_not_found(owner: Membership, client: HttpClient) -> None:
    token = invite(owner)
    Invitation.objects.update(expires_at=clock.now() - dt.timedelta(seconds=1))

    response = client.get(reverse("accounts:accept", args=[token]))

    assert response.status_code == 404
    assert "no longer valid" in response.content.decode()


def test_a_revoked_invitation_is_not_found(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    token = invite(owner)
    invitation = Invitation.objects.get()

    revoked = login(owner).post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    response = HttpClient().post(
        reverse("accounts:accept", args=[token]),
        {"full_name": "Late", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert revoked.status_code == 302
    assert response.status_code == 404
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_unknown_token_is_not_found(client: HttpClient) -> None:
    response = client.get(reverse("accounts:accept", args=["not-a-real-token"]))

    assert response.status_code == 404


def test_an_accepted_invitation_cannot_be_used_twice(owner: Membership) -> None:
    token = invite(owner)
    data = {"full_name": "Once", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    HttpClient().post(reverse("accounts:accept", args=[token]), data)

    response = HttpClient().get(reverse("accounts:accept", args=[token]))

    assert response.status_code == 404


def test_different_passwords_are_refused_inline(owner: Membership, client: HttpClient) -> None:
    token = invite(owner)

    response = client.post(
        reverse("accounts:accept", args=[token]),
        {"full_name": "Ada", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["password2"] == ["The two passwords do not match."]
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_weak_password_is_refused_inline(owner: Membership, client: HttpClient) -> None:
    token = invite(owner)

    response = client.post(
        reverse("accounts:accept", args=[token]),
        {"full_name": "Ada", "password1": "12345678", "password2": "12345678"},
    )

    assert response.status_code == 400
    assert "This password is entirely numeric." in response.context["form"].errors["password1"]
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_owner_cannot_revoke_another_agencys_invitation(
    owner: Membership, outsider: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    invite(outsider)
    invitation = Invitation.objects.get()

    response = login(owner).post(reverse("accounts:invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
