"""Every error under /api/ answers JSON, whoever produces it: a handler, the URL resolver,
Django's request checks or a failure nobody expected."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

import pytest
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.test import RequestFactory
from pytest_django import Settings

from clientledger.api.middleware import ApiJsonErrorsMiddleware
from clientledger.api.router import api
from tests.api.conftest import API, ApiClient
from tests.http import ClientResponse

pytestmark = pytest.mark.django_db


def assert_json(response: HttpResponse | ClientResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = json.loads(response.content)
    return body


def test_an_unexpected_error_answers_500_json_without_revealing_it(
    owner_api: ApiClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("password=hunter2 in a stack frame")

    monkeypatch.setattr("clientledger.api.clients.client_list", broken)
    owner_api.http.raise_request_exception = False

    with caplog.at_level(logging.ERROR):
        response = owner_api.get("/clients")

    assert assert_json(response, 500) == {
        "detail": "Something went wrong on our side; the error was logged."
    }
    assert b"hunter2" not in response.content
    # The traceback goes to the server log, where the team can read it.
    logged = [record for record in caplog.records if record.exc_info]
    assert logged and "hunter2" in str(logged[0].exc_info[1])  # type: ignore[index]


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_shows_no_traceback_even_in_debug_mode(
    owner_api: ApiClient, monkeypatch: pytest.MonkeyPatch, settings: Settings, debug: bool
) -> None:
    settings.DEBUG = debug
    monkeypatch.setattr(
        "clientledger.api.clients.client_list",
        lambda **kwargs: 1 / 0,
    )
    owner_api.http.raise_request_exception = False

    response = owner_api.get("/clients")

    assert assert_json(response, 500)["detail"].startswith("Something went wrong")
    assert b"Traceback" not in response.content
    assert b"ZeroDivisionError" not in response.content


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing-here", "/api/v1/clients/1/nothing", "/api/v2/clients", "/api/", "/api"],
)
def test_an_unknown_api_path_answers_404_json(owner_api: ApiClient, path: str) -> None:
    response = owner_api.http.get(path, headers=owner_api.headers)

    assert assert_json(response, 404) == {"detail": "Not found."}


def test_a_method_the_path_does_not_take_answers_405_json_naming_the_allowed_ones(
    owner_api: ApiClient,
) -> None:
    response = owner_api.put("/clients", {"name": "Acme"})

    body = assert_json(response, 405)
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    assert body == {"detail": f"This path does not take PUT; use {response['Allow']}."}


def test_a_request_for_an_unknown_host_answers_400_json(owner_api: ApiClient) -> None:
    response = owner_api.http.get(
        API + "/clients", headers={**owner_api.headers, "Host": "evil.example"}
    )

    assert assert_json(response, 400) == {"detail": "Bad request."}


def test_a_body_above_the_upload_limit_answers_400_json(
    owner_api: ApiClient, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = owner_api.post("/clients", {"name": "Acme", "notes": "x" * 2_000})

    assert assert_json(response, 400) == {"detail": "Bad request."}


def test_an_html_error_of_django_under_the_api_becomes_json() -> None:
    def forbidden(request: HttpRequest) -> HttpResponse:
        return HttpResponseForbidden("<h1>403 Forbidden</h1>")

    middleware = ApiJsonErrorsMiddleware(forbidden)

    # The middleware is typed for any response; this one is the JSON `HttpResponse` it built.
    response = cast(HttpResponse, middleware(RequestFactory().get("/api/v1/clients")))

    assert assert_json(response, 403) == {"detail": "Forbidden."}


def test_errors_outside_the_api_stay_as_they_are() -> None:
    page = HttpResponseForbidden("<h1>403 Forbidden</h1>")
    middleware = ApiJsonErrorsMiddleware(lambda request: page)

    assert middleware(RequestFactory().get("/clients/")) is page
    assert middleware(RequestFactory().get("/apiary/")) is page


def test_json_errors_of_the_api_pass_through_unchanged(owner_api: ApiClient) -> None:
    response = owner_api.get(f"/clients/{2**63 - 1}")

    assert assert_json(response, 404) == {"detail": "Not found."}


def test_every_operation_documents_the_error_answers_of_the_api() -> None:
    error_statuses = {"400", "401", "403", "404", "409", "422", "500"}
    schema = api.get_openapi_schema()

    undocumented = {
        f"{method.upper()} {path}": missing
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if (missing := error_statuses - {str(status) for status in operation["responses"]})
    }

    assert undocumented == {}
