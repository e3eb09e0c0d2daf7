"""Incoming Stripe events: verified on the raw body, stored once by their Stripe id in an
inbox, then applied by reading the PaymentIntent they concern back from Stripe
(`stripe.sync`). A copy of a processed event does nothing; a failed one is tried again by
its next copy, from the inbox page, by `clientledger stripe reprocess`, or by
`clientledger stripe reconcile`, which also fetches the events a lost webhook missed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clientledger.accounts.models import Agency
from clientledger.core import clock
from clientledger.payments.models import (
    Payment,
    PaymentStatus,
    StripeAccount,
    StripeEvent,
    StripeEventStatus,
)
from clientledger.payments.stripe.client import stripe_client, stripe_keys
from clientledger.payments.stripe.sync import ForeignPayment, metadata_id, stripe_payment_sync

logger = logging.getLogger(__name__)

# Stripe's own default: a replayed signature older than five minutes is refused.
WEBHOOK_TOLERANCE_SECONDS = 300
# How far back `stripe reconcile` looks by default; Stripe keeps events for 30 days.
RECONCILE_DEFAULT_DAYS = 3

# What the agency's webhook endpoint in the Stripe dashboard must send, and all that
# `stripe reconcile` fetches.
STRIPE_WEBHOOK_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "payment_intent.succeeded",
    "payment_intent.processing",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.refund.updated",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
)


# An event in these states has nothing left to do: a copy of it changes nothing.
DONE_STATUSES = frozenset({StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED})


class WebhookRejected(Exception):
    """The request is not a genuine, fresh Stripe event: nothing may be written."""


def _event_object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


def event_intent_id(event: dict[str, Any]) -> str | None:
    """The PaymentIntent an event concerns: every payment, charge, refund, dispute and
    Checkout event names one; any other event changes nothing of ours."""
    obj = _event_object(event)
    intent = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent if isinstance(intent, str) and intent else None


def _metadata_agency_id(event: dict[str, Any]) -> int | None:
    return metadata_id(_event_object(event), "agency_id")


# --- verification ----------------------------------------------------------------------------

# Nothing of the body is parsed before a signature matches. Which secret to try first is
# guessed from the raw bytes: the agency id our Checkout metadata carries. A wrong guess (or
# none, as in refund and dispute events) costs more HMACs, never a wrong answer.
_AGENCY_HINT = re.compile(rb'"agency_id": ?"([1-9][0-9]{0,17})"')
# A real header is `t=<unix time>,v1=<64 hex digits>`, with a few more v1 while a secret rolls.
_SIGNATURE_HEADER_MAX_CHARS = 1024
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# The inbox's columns.
_EVENT_ID_MAX_CHARS = 255
_EVENT_TYPE_MAX_CHARS = 100


def _signed_payload(payload: bytes, header: str | None) -> tuple[bytes, list[bytes]]:
    """What Stripe signed (`<t>.<raw body>`) and the signatures the header offers for it,
    once the header is well formed and fresh."""
    if not header or len(header) > _SIGNATURE_HEADER_MAX_CHARS or not header.isascii():
        raise WebhookRejected("The Stripe-Signature header is missing or malformed.")
    timestamp = ""
    signatures: list[bytes] = []
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = value
        elif scheme == "v1" and _HEX_DIGEST.fullmatch(value):
            signatures.append(value.encode())
    if not timestamp or not signatures:
        raise WebhookRejected("The Stripe-Signature header is missing or malformed.")
    if int(timestamp) < time.time() - WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("The signature is too old.")
    return timestamp.encode() + b"." + payload, signatures


def _signed_with(signed: bytes, signatures: list[bytes], secret: str) -> bool:
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def _candidate_secrets(payload: bytes) -> Iterator[tuple[str, StripeAccount | None]]:
    """Each webhook secret that may have signed the body, with the agency account it belongs
    to (None: the environment's), the likeliest first: the hinted agency's, the environment's,
    then every other agency's."""
    accounts = StripeAccount.objects.select_related("agency").exclude(webhook_secret="")
    hint = _AGENCY_HINT.search(payload)
    hinted = accounts.filter(agency_id=int(hint[1])).first() if hint else None
    if hinted is not None:
        yield hinted.webhook_secret, hinted
    if settings.STRIPE_WEBHOOK_SECRET:
        yield settings.STRIPE_WEBHOOK_SECRET, None
    others = accounts if hinted is None else accounts.exclude(pk=hinted.pk)
    for account in others.iterator():
        yield account.webhook_secret, account


def _event_parse(payload: bytes) -> dict[str, Any]:
    """The signed body as an event we can store, or why it is not one."""
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        # Not JSON, not UTF-8, or nested too deep to read.
        raise WebhookRejected("The body is not JSON.") from None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= _EVENT_ID_MAX_CHARS
        and isinstance(event.get("type"), str)
        and len(event["type"]) <= _EVENT_TYPE_MAX_CHARS
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("The body is not a Stripe event.")
    return event


def _signing_account(payload: bytes, header: str | None) -> StripeAccount | None:
    """The agency account whose webhook secret signed the raw body (None: the environment's
    secret), once the signature is fresh."""
    signed, signatures = _signed_payload(payload, header)
    for secret, account in _candidate_secrets(payload):
        if _signed_with(signed, signatures, secret):
            return account
    raise WebhookRejected("The signature does not match.")


def webhook_verify(
    *, payload: bytes, signature: str | None
) -> tuple[dict[str, Any], Agency | None]:
    """The event and whose webhook secret signed it (None: the environment's), once a secret
    matches the signature on the raw body within the tolerance. The body is read only then.

    An agency with its own secret accepts only events signed with it: an event signed with
    the environment's secret that names such an agency is refused."""
    account = _signing_account(payload, signature)
    event = _event_parse(payload)
    if account is not None:
        return event, account.agency
    named = _metadata_agency_id(event)
    if (
        named is not None
        and StripeAccount.objects.filter(agency_id=named)
        .exclude(webhook_secret__in=("", settings.STRIPE_WEBHOOK_SECRET))
        .exists()
    ):
        raise WebhookRejected("The agency's events must be signed with its own webhook secret.")
    return event, _environment_agency(event)


def _environment_agency(event: dict[str, Any]) -> Agency | None:
    """The agency an event signed with the environment's secret concerns, when we know it
    already: the one its metadata names if it uses the environment's keys, else the one our
    payment for its PaymentIntent belongs to."""
    named = _metadata_agency_id(event)
    agency = (
        Agency.objects.select_related("stripe_account").filter(pk=named).first()
        if named is not None
        else None
    )
    if agency is not None and stripe_keys(agency).webhook_secret == settings.STRIPE_WEBHOOK_SECRET:
        return agency
    intent_id = event_intent_id(event)
    payment = (
        Payment.objects.select_related("agency").filter(stripe_payment_intent_id=intent_id).first()
        if intent_id
        else None
    )
    return payment.agency if payment is not None else None


def stripe_event_handle(*, event: dict[str, Any], agency: Agency | None) -> StripeEvent:
    """Store a verified event once and apply it once; a copy of a processed event does
    nothing, a copy of a failed one tries again."""
    try:
        with transaction.atomic():
            record, _ = StripeEvent.objects.get_or_create(
                stripe_id=str(event["id"]),
                defaults={"agency": agency, "type": str(event.get("type", "")), "payload": event},
            )
    except IntegrityError:
        # A concurrent copy stored it first.
        record = StripeEvent.objects.get(stripe_id=str(event["id"]))
    if record.status in DONE_STATUSES:
        return record
    return _event_process(record)


def _event_apply(record: StripeEvent) -> tuple[str, str]:
    """Apply a stored event: the status it ends in, with why it failed or was ignored."""
    intent_id = event_intent_id(record.payload)
    if intent_id is None:
        return StripeEventStatus.PROCESSED, ""
    try:
        # Outside any transaction: Stripe is read, then the books converge under locks.
        stripe_payment_sync(agency=record.agency, intent_id=intent_id)
    except ForeignPayment as foreign:
        return StripeEventStatus.IGNORED, str(foreign)
    except ValidationError as failure:
        error = "; ".join(failure.messages)
    except stripe.StripeError as failure:
        error = f"Stripe could not be read: {failure.user_message or failure}"
    except (KeyError, TypeError, ValueError) as failure:
        # A payload we do not understand is kept, failed, for a look and a retry.
        error = f"Stripe's answer could not be read: {failure!r}"
    else:
        return StripeEventStatus.PROCESSED, ""
    logger.warning("Stripe event %s failed: %s", record.stripe_id, error)
    return StripeEventStatus.FAILED, error


def _event_process(record: StripeEvent) -> StripeEvent:
    status, error = _event_apply(record)
    with transaction.atomic():
        locked = StripeEvent.objects.select_for_update().get(pk=record.pk)
        if locked.status in DONE_STATUSES:
            return locked
        locked.status = status
        locked.error = error
        locked.attempts += 1
        locked.processed_at = clock.now()
        locked.save(update_fields=["status", "error", "attempts", "processed_at"])
    return locked


def stripe_event_retry(*, event_id: int) -> StripeEvent:
    """Apply a stored event again (a failed one, from the inbox page or the command line)."""
    return _event_process(StripeEvent.objects.select_related("agency").get(pk=event_id))


# --- reconcile -----------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    accounts: int = 0
    fetched: int = 0
    new: int = 0
    repaired: int = 0
    # About payments ClientLedger did not create.
    ignored: int = 0
    failed: list[str] = field(default_factory=list)


def stripe_reconcile(*, since: dt.datetime, agency: Agency | None = None) -> ReconcileReport:
    """Fetch the events of every Stripe account we use since `since` and apply the ones we
    missed or could not apply; then read back every payment still pending. Running it twice
    changes nothing the first run did not."""
    report = ReconcileReport()
    for owner in _stripe_accounts(agency):
        report.accounts += 1
        events = stripe_client(owner).v1.events.list(
            params={
                "created": {"gte": int(since.timestamp())},
                "types": list(STRIPE_WEBHOOK_EVENTS),
                "limit": 100,
            }
        )
        for event in events.auto_paging_iter():
            report.fetched += 1
            payload = event.to_dict()
            known = StripeEvent.objects.filter(stripe_id=payload["id"]).first()
            if known is not None and known.status in DONE_STATUSES:
                continue
            record = stripe_event_handle(
                event=payload, agency=owner if owner is not None else _environment_agency(payload)
            )
            report.new += known is None
            report.repaired += known is not None and record.status == StripeEventStatus.PROCESSED
            report.ignored += record.status == StripeEventStatus.IGNORED
            if record.status == StripeEventStatus.FAILED:
                report.failed.append(f"{record.stripe_id}: {record.error}")
    pending = Payment.objects.filter(status=PaymentStatus.PENDING).exclude(
        stripe_payment_intent_id=None
    )
    if agency is not None:
        pending = pending.filter(agency=agency)
    for payment in pending.select_related("agency__stripe_account"):
        try:
            stripe_payment_sync(
                agency=payment.agency, intent_id=str(payment.stripe_payment_intent_id)
            )
        except (ValidationError, stripe.StripeError) as failure:
            report.failed.append(f"{payment.stripe_payment_intent_id}: {failure}")
    return report


def _stripe_accounts(agency: Agency | None) -> list[Agency | None]:
    """Each set of keys once: the agencies with their own secret key, and None for the
    environment's keys (shared by every other agency)."""
    own = Agency.objects.select_related("stripe_account").exclude(stripe_account__secret_key="")
    own = own.filter(stripe_account__isnull=False)
    if agency is not None:
        own = own.filter(pk=agency.pk)
    accounts: list[Agency | None] = list(own)
    if settings.STRIPE_SECRET_KEY and (agency is None or not accounts):
        accounts.append(None)
    return accounts
