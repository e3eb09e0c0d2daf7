"""Login throttling with django-axes: after `AXES_FAILURE_LIMIT` wrong passwords for one email
address from one IP address, signing in there is refused for `AXES_COOLOFF_TIME`, even with
the right password. API tokens do not sign in and are not throttled."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clientledger.accounts.forms import EmailLoginForm
from clientledger.accounts.services import login_lockout_record


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # The same words whether or not the address has an account: they reveal nothing.
    return (
        "Too many failed sign-ins for this email address. For your security, signing in "
        f"from your network is paused for {minutes} minutes; please try again then."
    )


def login_locked_out(
    request: HttpRequest, response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """The sign-in page again (429), the email address kept, the password not."""
    form = EmailLoginForm(request, initial={"username": (credentials or {}).get("username", "")})
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.POST.get("next", ""), "locked_out": lockout_message()},
        status=429,
    )


def on_user_locked_out(
    sender: object, *, request: HttpRequest, username: str | None, ip_address: str | None, **_: Any
) -> None:
    """Audit the failure that locked an account; axes signals again for every refused try."""
    failures = getattr(request, "axes_failures_since_start", None)
    if username and failures == settings.AXES_FAILURE_LIMIT:
        login_lockout_record(email=username, ip_address=ip_address, failures=failures)
