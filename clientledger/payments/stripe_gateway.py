"""Stripe: per-agency keys, the SDK client and Checkout Sessions.

Outgoing calls go through the official SDK with a pinned API version; incoming events are
handled in `stripe_events`."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from stripe.params.checkout import SessionCreateParams

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.core.money import format_money, from_minor
from clientledger.payments.models import StripeAccount

# Stripe changes payloads between API versions: we speak exactly this one.
STRIPE_API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str
    webhook_secret: str

    @property
    def is_test_mode(self) -> bool:
        return self.secret_key.startswith("sk_test_")


def stripe_keys(agency: Agency) -> StripeKeys:
    """The agency's own keys, each falling back to the STRIPE_* environment when empty."""
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


def stripe_client(agency: Agency) -> stripe.StripeClient:
    return stripe.StripeClient(
        stripe_keys(agency).secret_key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )


# --- Checkout ------------------------------------------------------------------------------


def checkout_idempotency_key(invoice: Invoice, amount_minor: int) -> str:
    """Same invoice, same amount already paid, same amount asked: the same key, so a double
    click or a retried request gets Stripe's first Session back instead of a second one.
    Any payment in between changes the key, so the next visit starts a fresh Session."""
    return f"checkout-{invoice.agency_id}-{invoice.pk}-{invoice.amount_paid_minor}-{amount_minor}"


def checkout_session_create(
    *, invoice: Invoice, token: str, amount_minor: int | None = None
) -> str:
    """A Stripe Checkout URL where the client pays the invoice (its balance by default) by
    card; `token` is the portal link the client comes back to."""
    agency = invoice.agency
    if not stripe_configured(agency):
        raise ValidationError({"invoice": "Online payment is not available for this invoice."})
    if invoice.status != InvoiceStatus.OPEN or invoice.balance_due_minor <= 0:
        raise ValidationError({"invoice": "This invoice has nothing left to pay."})
    balance = invoice.balance_due_minor
    amount = balance if amount_minor is None else amount_minor
    if not 0 < amount <= balance:
        due = format_money(from_minor(balance, invoice.currency), invoice.currency)
        raise ValidationError({"amount": f"Pay an amount greater than zero and at most {due}."})
    metadata = {"invoice_id": str(invoice.pk), "agency_id": str(agency.pk)}
    params: SessionCreateParams = {
        "mode": "payment",
        # API version endive renamed payment_method_types to allowed_payment_method_types.
        "allowed_payment_method_types": ["card"],
        "client_reference_id": str(invoice.pk),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": amount,
                    "product_data": {"name": f"Invoice {invoice}"},
                },
            }
        ],
        "metadata": metadata,
        # PaymentIntent events carry the same ids, so either event can record the payment.
        "payment_intent_data": {"metadata": metadata},
        "success_url": settings.SITE_URL + reverse("portal:pay_success", args=[token]),
        "cancel_url": settings.SITE_URL + reverse("portal:pay_cancel", args=[token]),
    }
    session = stripe_client(agency).v1.checkout.sessions.create(
        params=params, options={"idempotency_key": checkout_idempotency_key(invoice, amount)}
    )
    if not session.url:
        raise ValidationError({"invoice": "Stripe did not return a payment page."})
    return session.url
