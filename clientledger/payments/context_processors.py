"""Whether the agency's Stripe account is in test mode, for every template."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest

from clientledger.payments.stripe.account import stripe_test_mode


def stripe_mode(request: HttpRequest) -> dict[str, Any]:
    agency = getattr(request, "agency", None)
    # A callable, evaluated only where the staff header shows the badge: one query for the
    # agency's Stripe account there, none on pages without the header (portal, login).
    return {"stripe_test_mode": partial(stripe_test_mode, agency) if agency else False}
