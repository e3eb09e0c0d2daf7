"""Fixed-window request counters in Django's cache, for the public portal.

Counters live in the default cache, so the limits hold per cache: with several worker
processes, configure a shared cache (Redis, database) or each process counts on its own.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from clientledger.core import clock
from clientledger.core.http import client_ip


@dataclass(frozen=True)
class Limit:
    scope: str
    requests: int
    window_seconds: int


PER_CLIENT = Limit(scope="client", requests=60, window_seconds=60)
POSTS_PER_TOKEN = Limit(scope="token-post", requests=10, window_seconds=60)


def _digest(value: str) -> str:
    # Tokens and addresses never appear in cache keys as such, and keys keep one length.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def limit_hit(limit: Limit, identity: str) -> int | None:
    """Count one request; over the limit, return the seconds until the window resets."""
    now = clock.now().timestamp()
    window = int(now // limit.window_seconds)
    key = f"portal-rate:{limit.scope}:{_digest(identity)}:{window}"
    cache.add(key, 0, timeout=limit.window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: this request opens the window again
        cache.set(key, 1, timeout=limit.window_seconds)
        count = 1
    if count <= limit.requests:
        return None
    return max(1, math.ceil((window + 1) * limit.window_seconds - now))


def too_many_requests(retry_after: int) -> HttpResponse:
    response = HttpResponse(
        render_to_string("portal/rate_limited.html", {"retry_after": retry_after}), status=429
    )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every portal request counts against the visitor's address; a POST also counts against
    its token, so one link cannot be hammered from many addresses."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        retry_after = limit_hit(PER_CLIENT, client_ip(request) or "unknown")
        if retry_after is None and request.method == "POST":
            retry_after = limit_hit(POSTS_PER_TOKEN, token)
        if retry_after is not None:
            return too_many_requests(retry_after)
        return view(request, token, *args, **kwargs)

    return wrapper
