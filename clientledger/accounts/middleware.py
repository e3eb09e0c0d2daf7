"""The request's agency and membership, and the idle session timeout."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from clientledger.accounts.models import Membership
from clientledger.core import clock

# The session's expiry moves on with each request, written at most once a minute so that
# reading pages does not turn every request into a session write.
SESSION_SEEN_KEY = "accounts.seen_at"
SESSION_TOUCH_SECONDS = 60


class MembershipMiddleware:
    """Attach the signed-in user's membership and agency to the request (None otherwise)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = None
        if request.user.is_authenticated:
            membership = (
                Membership.objects.select_related("agency").filter(user_id=request.user.pk).first()
            )
            if membership is not None:
                # The user the session loaded, rather than a second copy joined in.
                membership.user = request.user
        request.membership = membership  # type: ignore[attr-defined]
        request.agency = membership.agency if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)


class SessionIdleMiddleware:
    """A signed-in session ends after SESSION_COOKIE_AGE (SESSION_IDLE_TIMEOUT_MINUTES) without
    a request: each request saves the session again, which sets its expiry from now."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            seen_at = request.session.get(SESSION_SEEN_KEY, 0)
            if _now() - seen_at >= SESSION_TOUCH_SECONDS:
                session_seen(request)
        return self.get_response(request)


def session_seen(request: HttpRequest, **_: object) -> None:
    """Mark the session used now (also on sign-in, which saves the session anyway)."""
    request.session[SESSION_SEEN_KEY] = _now()


def _now() -> int:
    return int(clock.now().timestamp())


class PrivatePagesMiddleware:
    """What a signed-in member is shown (pages, partials, PDFs, API answers) is kept by no
    cache, the browser's back-forward and disk caches included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The API's bearer token sets request.user in the view, after the request phase.
        if request.user.is_authenticated and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response
