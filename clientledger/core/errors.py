"""Error answers: a page in the app's layout that says what happened and offers the way back.
Under /api/ the API's own middleware (`clientledger.api.middleware`) turns these into JSON.

`config/urls.py` names these views as Django's 403, 404 and 500 handlers; 405 has no
handler in Django, so `MethodNotAllowedMiddleware` fills the empty body `require_POST` and
friends answer with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def _previous_page(request: HttpRequest) -> str:
    """The page the visitor came from, when it is one of ours (never an outside address)."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _is_portal(request: HttpRequest) -> bool:
    # Clients reach the portal with a link and no account: no sign-in page, no dashboard.
    portal_prefix = reverse("portal:document", kwargs={"token": "-"}).removesuffix("-/")
    return request.path.startswith(portal_prefix)


def _page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(
        request,
        template,
        {"previous_page": _previous_page(request), "is_portal": _is_portal(request)},
        status=status,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "404.html", 404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "403.html", 403)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request: context processors could query the database that has
    just failed, so the page uses nothing but the template and static files."""
    return HttpResponse(loader.get_template("500.html").render(), status=500)


class MethodNotAllowedMiddleware:
    """A GET on an address that only takes a form (Sign out, Move deal...) gets a page that
    says so instead of the empty 405 body `require_POST` sends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            not isinstance(response, HttpResponse)
            or response.status_code != 405
            or response.content
        ):
            return response
        page = _page(request, "405.html", 405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page


class PermissionDeniedWithoutTraceback(logging.Filter):
    """A refused permission is an expected answer, not a fault: Django logs it with the
    exception attached, which handlers print as a traceback. Keep the one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info: Any = record.exc_info
        if exc_info and isinstance(exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
