"""Fixed-window request counters for the public portal.

Guessing is what the portal must stop, not clients: unknown, revoked and draft links (a 404)
count against the visitor's address under a hard limit, while requests to a live link count
against that link under a generous one, so an office behind one address (or every visitor
behind a proxy) is never refused for reading its documents.

With `REDIS_URL` every process counts in Redis, in one round trip per request. Without it
each worker process counts on its own (Django's local-memory cache) and grants only its
share of each limit, so that all of them together never grant more than the limit.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache as memoized
from functools import wraps
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string

from clientledger.core import clock
from clientledger.core.http import client_ip


@dataclass(frozen=True)
class Limit:
    scope: str
    requests: int
    window_seconds: int


# A client mistyping a link, or opening a revoked one, needs a few tries; a script trying
# tokens is stopped for the rest of the ten minutes, also for live links (or a 429 against
# a 200 would tell it which guess was right).
GUESSES_PER_CLIENT = Limit(scope="client-guess", requests=20, window_seconds=600)
# A client reads its page a few times a minute; this only stops a script hammering one link.
REQUESTS_PER_TOKEN = Limit(scope="token", requests=30_000, window_seconds=60)
# Approving, declining and paying: a person posts a few times, whatever their address.
POSTS_PER_TOKEN = Limit(scope="token-post", requests=10, window_seconds=60)


@dataclass(frozen=True)
class Window:
    """One limit's counter for one identity in the current window."""

    limit: Limit
    key: str
    resets_at: float

    @classmethod
    def current(cls, limit: Limit, identity: str, now: float) -> Window:
        # Tokens and addresses never appear in keys as such, and keys keep one length.
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        number = int(now // limit.window_seconds)
        return cls(
            limit=limit,
            key=f"portal-rate:{limit.scope}:{digest}:{number}",
            resets_at=(number + 1) * limit.window_seconds,
        )

    def refusal(self, count: int, now: float) -> int | None:
        """Over the limit: the seconds until the window resets; else None."""
        if count <= allowed(self.limit):
            return None
        return max(1, math.ceil(self.resets_at - now))


def allowed(limit: Limit) -> int:
    """What this process may grant: the whole limit with shared counters, else its share."""
    if settings.REDIS_URL:
        return limit.requests
    return max(1, limit.requests // settings.WEB_CONCURRENCY)


@memoized
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def counters_update(added: Sequence[Window], read: Sequence[Window]) -> list[int]:
    """Add one to each of `added` and read each of `read`: their counts, in that order."""
    if settings.REDIS_URL:
        pipeline = redis_client(settings.REDIS_URL).pipeline(transaction=False)
        for window in added:
            pipeline.incr(window.key)
            pipeline.expire(window.key, window.limit.window_seconds)
        for window in read:
            pipeline.get(window.key)
        answers = pipeline.execute()
        return answers[: 2 * len(added) : 2] + [
            int(count or 0) for count in answers[2 * len(added) :]
        ]
    return [_local_incr(window) for window in added] + [cache.get(w.key, 0) for w in read]


def _local_incr(window: Window) -> int:
    cache.add(window.key, 0, timeout=window.limit.window_seconds)
    try:
        return cache.incr(window.key)
    except ValueError:  # evicted between add and incr: this request opens the window again
        cache.set(window.key, 1, timeout=window.limit.window_seconds)
        return 1


def refusal(request: HttpRequest, token: str, address: str, now: float) -> int | None:
    """Count this request against its link (and a POST against the link's posts) and read
    the address's guesses: the seconds to wait if any limit is passed, else None."""
    added = [Window.current(REQUESTS_PER_TOKEN, token, now)]
    if request.method == "POST":
        added.append(Window.current(POSTS_PER_TOKEN, token, now))
    guesses = Window.current(GUESSES_PER_CLIENT, address, now)
    counts = counters_update(added, [guesses])
    # The guesses read are the ones before this request: the limit-th guess still gets its 404.
    windows_and_counts = [*zip(added, counts[:-1], strict=True), (guesses, counts[-1] + 1)]
    waits = [window.refusal(count, now) for window, count in windows_and_counts]
    return max((wait for wait in waits if wait is not None), default=None)


def too_many_requests(retry_after: int) -> HttpResponse:
    response = HttpResponse(
        render_to_string("portal/rate_limited.html", {"retry_after": retry_after}), status=429
    )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a request over a limit; a request the view answers 404 counts as a guess."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        address = client_ip(request) or "unknown"
        now = clock.now().timestamp()
        retry_after = refusal(request, token, address, now)
        if retry_after is not None:
            return too_many_requests(retry_after)
        try:
            return view(request, token, *args, **kwargs)
        except Http404:
            counters_update([Window.current(GUESSES_PER_CLIENT, address, now)], [])
            raise

    return wrapper
