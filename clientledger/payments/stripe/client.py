"""Stripe: per-agency keys and the SDK client.

Outgoing calls go through the official SDK with a pinned API version (Checkout Sessions in
`stripe.checkout`); incoming events are handled in `stripe.inbox`."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings

from clientledger.accounts.models import Agency
from clientledger.payments.models import StripeAccount

# What a failed call to Stripe raises: callers outside the Stripe modules catch it by this name.
StripeError = stripe.StripeError

# Stripe changes payloads between API versions: we speak exactly this one.
STRIPE_API_VERSION = "2026-10-28.endive"

TEST, LIVE = "test", "live"
# Restricted keys (rk_) work wherever a secret key does.
KEY_PREFIXES: dict[str, dict[str, str]] = {
    "secret_key": {"sk_test_": TEST, "rk_test_": TEST, "sk_live_": LIVE, "rk_live_": LIVE},
    "publishable_key": {"pk_test_": TEST, "pk_live_": LIVE},
    "webhook_secret": {"whsec_": ""},
}


def key_mode(field: str, key: str) -> str | None:
    """TEST or LIVE for a key of that field (None: not a Stripe key of that kind)."""
    for prefix, mode in KEY_PREFIXES[field].items():
        if key.startswith(prefix):
            return mode
    return None


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str
    webhook_secret: str

    @property
    def is_test_mode(self) -> bool:
        return key_mode("secret_key", self.secret_key) == TEST


def stripe_keys(agency: Agency | None) -> StripeKeys:
    """The agency's own keys, each falling back to the STRIPE_* environment when empty (no
    agency: the environment's)."""
    # The accessor, not a query: the portal loads the account with the invoice's agency.
    # A missing account raises RelatedObjectDoesNotExist, an AttributeError.
    account: StripeAccount | None = getattr(agency, "stripe_account", None)
    return StripeKeys(
        secret_key=(account and account.secret_key) or settings.STRIPE_SECRET_KEY,
        publishable_key=(account and account.publishable_key) or settings.STRIPE_PUBLISHABLE_KEY,
        webhook_secret=(account and account.webhook_secret) or settings.STRIPE_WEBHOOK_SECRET,
    )


def stripe_configured(agency: Agency) -> bool:
    keys = stripe_keys(agency)
    return bool(keys.secret_key and keys.publishable_key and keys.webhook_secret)


def stripe_client(agency: Agency | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        stripe_keys(agency).secret_key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )
