from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_member_signs_in_with_email_and_password(owner: Membership, client: HttpClient) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": owner.user.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(owner.user.pk)


def test_the_email_address_is_not_case_sensitive(owner: Membership, client: HttpClient) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": owner.user.email.upper(), "password": PASSWORD}
    )

    assert response.status_code == 302


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(
    owner: Membership, client: HttpClient
) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": owner.user.email, "password": "wrong"}
    )

    assert response.status_code == 200
    assert "The email address or password is incorrect." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_deactivated_member_cannot_sign_in(owner: Membership, client: HttpClient) -> None:
    User.objects.filter(pk=owner.user.pk).update(is_active=False)

    response = client.post(
        reverse("accounts:login"), {"username": owner.user.email, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signing_in_returns_to_the_page_asked_for(owner: Membership, client: HttpClient) -> None:
    target = reverse("accounts:member_list")

    response = client.post(
        f"{reverse('accounts:login')}?next={target}",
        {"username": owner.user.email, "password": PASSWORD, "next": target},
    )

    assert response["Location"] == target


def test_signing_in_never_redirects_to_another_site(owner: Membership, client: HttpClient) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": owner.user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("home")


def test_the_login_page_offers_email_and_password(client: HttpClient) -> None:
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert 'type="email"' in response.content.decode()
    assert 'type="password"' in response.content.decode()


def test_logging_out_by_get_is_refused(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)

    response = http.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert http.session["_auth_user_id"] == str(owner.user.pk)


def test_logging_out_by_post_ends_the_session(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)

    response = http.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in http.session


def test_changing_the_password_needs_the_old_one(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)
    new_password = "a-much-longer-new-secret-42"

    response = http.post(
        reverse("accounts:password_change"),
        {"old_password": "not-it", "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    owner.user.refresh_from_db()
    assert owner.user.check_password(PASSWORD)


def test_changing_the_password_keeps_the_member_signed_in_with_a_flash(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)
    new_password = "a-much-longer-new-secret-42"

    response = http.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    owner.user.refresh_from_db()
    assert owner.user.check_password(new_password)
    assert http.session["_auth_user_id"] == str(owner.user.pk)
    flashes = [str(message) for message in get_messages(response.wsgi_request)]
    assert flashes == ["Your password has been changed."]


def test_the_password_page_asks_anonymous_visitors_to_sign_in(client: HttpClient) -> None:
    response = client.get(reverse("accounts:password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
