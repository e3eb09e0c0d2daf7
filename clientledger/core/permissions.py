"""View guards: login, a membership and a role permission; other agencies' rows are 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from clientledger.accounts.models import Agency, Membership, User

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


class AgencyRequest(HttpRequest):
    """A member's request: `require_perm` (pages) or the bearer token (API) has checked that
    it is signed in, with a membership and its agency."""

    user: User
    membership: Membership
    agency: Agency
    htmx: HtmxDetails


def require_perm(perm: str) -> Callable[[V], V]:
    """Signed-in member whose role grants `perm`; anonymous users go to the login page."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None or not membership.allows(perm):
                raise PermissionDenied(f"Your role does not allow this ({perm}).")
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
