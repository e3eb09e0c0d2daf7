"""Error pages: in the app's layout, saying what happened and offering the way back; JSON under
the API; one log line for a refused permission; a 500 page that needs no database."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.core import errors

Login = Callable[[Membership], HttpClient]

LAYOUT = "css/app.css"
HOME = f'href="{reverse("home")}"'


@pytest.mark.django_db
def test_a_refused_page_explains_the_role_and_offers_the_way_back(
    viewer: Membership, login: Login
) -> None:
    response = login(viewer).get(
        reverse("crm:client_create"), headers={"referer": "http://testserver/clients/"}
    )

    html = response.content.decode()
    assert response.status_code == 403
    assert LAYOUT in html and viewer.agency.name in html
    assert "You do not have access to this page" in html
    assert "Your role (Viewer) does not allow this" in html
    assert HOME in html and "Back to the dashboard" in html
    assert 'href="http://testserver/clients/"' in html


@pytest.mark.django_db
def test_a_missing_page_is_styled_and_links_to_the_dashboard(
    owner: Membership, login: Login
) -> None:
    response = login(owner).get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert LAYOUT in html and "Page not found" in html
    assert HOME in html


@pytest.mark.django_db
def test_a_signed_out_visitor_is_offered_the_sign_in_page() -> None:
    html = HttpClient().get("/no-such-page/").content.decode()

    assert "Page not found" in html and reverse("accounts:login") in html


@pytest.mark.django_db
def test_an_invalid_portal_link_tells_the_client_to_ask_for_a_new_one() -> None:
    response = HttpClient().get(reverse("portal:document", args=["revoked-or-unknown"]))

    html = response.content.decode()
    assert response.status_code == 404
    assert "This link does not work any more" in html
    assert reverse("accounts:login") not in html


@pytest.mark.django_db
def test_opening_a_post_only_address_shows_a_styled_405_that_keeps_the_allow_header(
    owner: Membership, login: Login
) -> None:
    response = login(owner).get(reverse("accounts:logout"))

    html = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert LAYOUT in html and "This address runs an action" in html
    assert HOME in html


@pytest.mark.django_db
def test_api_errors_stay_json(owner: Membership) -> None:
    missing = HttpClient().get("/api/v1/no-such-endpoint")
    wrong_method = HttpClient().delete("/api/v1/clients")

    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["detail"].startswith("This path does not take DELETE")
    assert "GET" in wrong_method["Allow"]


def test_the_500_page_renders_in_the_layout_without_the_database() -> None:
    # No django_db mark: any query made while rendering would fail this test.
    response = errors.server_error(RequestFactory().get("/clients/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert LAYOUT in html and "Something went wrong on our side" in html
    assert 'href="/"' in html


@pytest.mark.django_db
def test_a_refused_permission_logs_one_line_without_a_traceback(
    viewer: Membership, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        login(viewer).get(reverse("crm:client_create"))

    records = [record for record in caplog.records if record.name == "django.request"]
    assert [record.getMessage() for record in records] == [
        "Forbidden (Permission denied): /clients/new/"
    ]
    assert records[0].exc_info is None and records[0].exc_text is None


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_says_it_expired_and_asks_to_reload() -> None:
    response = HttpClient(enforce_csrf_checks=True).post(reverse("accounts:login"), {})

    html = response.content.decode()
    assert response.status_code == 403
    assert LAYOUT in html and "This form has expired" in html
