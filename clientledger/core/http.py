"""HTTP helpers shared by the staff pages, the login throttle and the client portal."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import url_has_allowed_host_and_scheme

P = ParamSpec("P")
T = TypeVar("T")


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address. X-Forwarded-For is trusted only behind our own proxy, and then
    only its last entry: the one that proxy appended, the rest being whatever the client sent."""
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        candidates.insert(0, forwarded[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def object_or_404(lookup: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """The one way a page turns "not found" into a 404: call the selector (which filters by the
    request's agency and raises DoesNotExist) and answer 404 when the agency has no such
    record. Under /api/ the API's middleware turns the same Http404 into its JSON answer."""
    try:
        return lookup(*args, **kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def query_int(request: HttpRequest, name: str) -> int | None:
    """The query parameter as a non-negative integer, or None when absent or not one."""
    value = request.GET.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else None


def safe_next_url(request: HttpRequest, default: str) -> str:
    """The posted or queried `next` address when it stays on this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# A list reverses the same URL name for each of its rows, and Django's reverse() costs tens
# of microseconds a call (issue 14: a tenth of the API's page of 50 invoices). The name is
# reversed once with a placeholder, per script prefix and URL conf; each value then takes the
# placeholder's place. Only values that reverse() would put in the URL unchanged qualify.
_PLACEHOLDER = "7919187349"
_AS_IS = re.compile(r"[A-Za-z0-9_-]+")


@lru_cache(maxsize=128)
def _url_around(name: str, kwarg: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    before, found, after = reverse(name, kwargs={kwarg: _PLACEHOLDER}).partition(_PLACEHOLDER)
    assert found, f"{name} does not show its {kwarg}"
    return before, after


def url_with(name: str, kwarg: str, value: int | str) -> str:
    """`reverse(name, kwargs={kwarg: value})` for a URL with one parameter, an id or a token."""
    text = str(value)
    if not _AS_IS.fullmatch(text):
        return reverse(name, kwargs={kwarg: value})
    before, after = _url_around(name, kwarg, get_script_prefix(), get_urlconf())
    return f"{before}{text}{after}"
