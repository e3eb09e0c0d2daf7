"""HTTP helpers shared by the staff pages, the login throttle and the client portal."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest
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
