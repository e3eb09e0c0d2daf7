"""Incoming Stripe events: verified on the raw body, stored once by their Stripe id in an
inbox and applied in a transaction."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clientledger.accounts.models import Agency
from clientledger.core import clock
from clientledger.payments.models import StripeEvent, StripeEventStatus
from clientledger.payments.services import payment_record_stripe
from clientledger.payments.stripe_gateway import stripe_keys

logger = logging.getLogger(__name__)

# Stripe's own default: a replayed signature older than five minutes is refused.
WEBHOOK_TOLERANCE_SECONDS = 300


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


def stripe_event_retry(*, event_id: int) -> StripeEvent:
    """Apply a stored event again (a failed one, from the inbox page or the command line)."""
    record = StripeEvent.objects.get(pk=event_id)
    return stripe_event_handle(event=record.payload, agency=record.agency)


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
