"""Stripe card payments: per-agency keys, Checkout Sessions and the webhook inbox.

Outgoing calls go through the official SDK with a pinned API version; incoming events are
verified on the raw body, stored once by their Stripe id and processed in a transaction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from stripe.params.checkout import SessionCreateParams

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.core import clock
from clientledger.core.money import format_money, from_minor
from clientledger.payments.models import StripeAccount, StripeEvent, StripeEventStatus
from clientledger.payments.services import payment_record_stripe

logger = logging.getLogger(__name__)

# Stripe changes payloads between API versions: we speak exactly this one.
STRIPE_API_VERSION = "2026-10-28.endive"
# Stripe's own default: a replayed signature older than five minutes is refused.
WEBHOOK_TOLERANCE_SECONDS = 300


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


# --- webhooks ------------------------------------------------------------------------------


class WebhookRejected(Exception):
    """The request is not a genuine, fresh Stripe event: nothing may be written."""


def _event_agency(payload: dict[str, Any]) -> Agency | None:
    metadata = (payload.get("data") or {}).get("object", {}).get("metadata") or {}
    agency_id = str(metadata.get("agency_id", ""))
    if not agency_id.isdigit():
        return None
    return Agency.objects.filter(pk=int(agency_id)).first()


def webhook_verify(
    *, payload: bytes, signature: str | None
) -> tuple[dict[str, Any], Agency | None]:
    """The event, once its signature on the raw body matches the webhook secret of the agency
    its metadata names (the environment's for no agency), within the tolerance."""
    try:
        unverified = json.loads(payload)
    except ValueError:
        raise WebhookRejected("The body is not JSON.") from None
    if not isinstance(unverified, dict):
        raise WebhookRejected("The body is not an event.")
    agency = _event_agency(unverified)
    # An agency with its own secret accepts only events signed with it.
    secret = stripe_keys(agency).webhook_secret if agency else settings.STRIPE_WEBHOOK_SECRET
    if secret:
        try:
            stripe.Webhook.construct_event(
                payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            pass
        else:
            return unverified, agency
    raise WebhookRejected("The signature does not match.")


def stripe_event_handle(*, event: dict[str, Any], agency: Agency | None) -> StripeEvent:
    """Store a verified event once and apply it once; a copy of a processed event does
    nothing, a copy of a failed one tries again."""
    try:
        with transaction.atomic():
            StripeEvent.objects.get_or_create(
                stripe_id=str(event["id"]),
                defaults={"agency": agency, "type": str(event.get("type", "")), "payload": event},
            )
    except IntegrityError:
        # A concurrent copy stored it first; the lock below waits for its processing.
        pass
    with transaction.atomic():
        record = StripeEvent.objects.select_for_update().get(stripe_id=str(event["id"]))
        if record.status == StripeEventStatus.PROCESSED:
            return record
        try:
            with transaction.atomic():
                _event_apply(record)
        except (ValidationError, KeyError, TypeError, ValueError) as error:
            logger.warning("Stripe event %s failed: %s", record.stripe_id, error)
            record.status = StripeEventStatus.FAILED
            record.error = "; ".join(getattr(error, "messages", [])) or repr(error)
        else:
            record.status = StripeEventStatus.PROCESSED
            record.error = ""
        record.processed_at = clock.now()
        record.save(update_fields=["status", "error", "processed_at"])
    return record


def _event_apply(record: StripeEvent) -> None:
    obj = record.payload["data"]["object"]
    if record.type == "checkout.session.completed":
        if obj.get("payment_status") == "paid":
            _card_payment(record, obj, intent_id=obj["payment_intent"], amount=obj["amount_total"])
    elif record.type == "payment_intent.succeeded":
        _card_payment(record, obj, intent_id=obj["id"], amount=obj["amount_received"])
    # Every other type is stored for the record and changes nothing.


def _card_payment(record: StripeEvent, obj: dict[str, Any], *, intent_id: Any, amount: Any) -> None:
    if record.agency is None:
        raise ValidationError({"agency": "The event names no agency of ours."})
    invoice_id = str(obj.get("metadata", {}).get("invoice_id", ""))
    if not invoice_id.isdigit():
        raise ValidationError({"invoice": "The event names no invoice."})
    if not isinstance(intent_id, str) or not intent_id:
        raise ValidationError({"payment_intent": "The event names no PaymentIntent."})
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationError({"amount": "The event carries no amount."})
    payment_record_stripe(
        agency=record.agency,
        invoice_id=int(invoice_id),
        payment_intent_id=intent_id,
        amount_minor=amount,
        currency=str(obj["currency"]).upper(),
    )
