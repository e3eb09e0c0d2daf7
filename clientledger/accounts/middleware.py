from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from clientledger.accounts.models import Membership


class MembershipMiddleware:
    """Attach the signed-in user's membership and agency to the request (None otherwise)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = None
        if request.user.is_authenticated:
            membership = (
                Membership.objects.select_related("agency", "user")
                .filter(user_id=request.user.pk)
                .first()
            )
        request.membership = membership  # type: ignore[attr-defined]
        request.agency = membership.agency if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)
