"""Errors under /api/ are JSON, also those Django answers outside the API's own handlers: an
unknown path (the URL resolver's 404), a method a path does not take (405), a request Django's
checks refuse before any view runs (a foreign Host header, 400) or a failure in a middleware."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from http import HTTPStatus

from django.http import HttpRequest, HttpResponseBase, JsonResponse

API_PATH = "/api/"


class ErrorDetail(StrEnum):
    """The fixed `detail` of the API's error answers (what a service refuses is told in the
    service's own words instead)."""

    BAD_REQUEST = "Bad request."
    # 401: no token, or one that is not valid (any more).
    UNAUTHENTICATED = "Send a valid API token as 'Authorization: Bearer <token>'."
    FORBIDDEN = "Forbidden."
    NOT_FOUND = "Not found."
    # 409: a delete that rows still referring to the record refuse.
    STILL_REFERENCED = "Other records still refer to this one; it cannot be deleted."
    # 422: a body that is no JSON object.
    NOT_AN_OBJECT = "Send a JSON object."
    SERVER_ERROR = "Something went wrong on our side; the error was logged."


DETAILS = {
    400: ErrorDetail.BAD_REQUEST,
    403: ErrorDetail.FORBIDDEN,
    404: ErrorDetail.NOT_FOUND,
    500: ErrorDetail.SERVER_ERROR,
}
# Headers of an error answer that tell the client what to do next.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
# The content type of the API's own answers (django-ninja's JSON renderer).
JSON = "application/json; charset=utf-8"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH) or path == API_PATH.rstrip("/")


def _is_json(response: HttpResponseBase) -> bool:
    return str(response.get("Content-Type", "")).startswith("application/json")


def error_detail(request: HttpRequest, response: HttpResponseBase) -> str:
    status = response.status_code
    if status == HTTPStatus.METHOD_NOT_ALLOWED and response.has_header("Allow"):
        return f"This path does not take {request.method}; use {response['Allow']}."
    if status in DETAILS:
        return DETAILS[status]
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return ErrorDetail.SERVER_ERROR if status >= 500 else ErrorDetail.BAD_REQUEST


class ApiJsonErrorsMiddleware:
    """Turns any non-JSON error answer under /api/ into `{"detail": "..."}` with its status.

    It comes first in MIDDLEWARE so that it also sees the answers other middleware give.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response) or not is_api_path(request.path_info):
            return response
        answer = JsonResponse(
            {"detail": error_detail(request, response)},
            status=response.status_code,
            content_type=JSON,
        )
        for header in KEPT_HEADERS:
            if response.has_header(header):
                answer[header] = response[header]
        return answer
