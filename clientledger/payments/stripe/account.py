"""An agency's Stripe set-up as staff manage it: its keys (never shown back), what the
settings page says about them, and its inbox of webhook events with reprocessing."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.payments.audit_verbs import StripeVerb
from clientledger.payments.models import StripeAccount, StripeEvent, StripeEventStatus
from clientledger.payments.stripe.client import (
    KEY_PREFIXES,
    key_mode,
    stripe_configured,
    stripe_keys,
)
from clientledger.payments.stripe.inbox import STRIPE_WEBHOOK_EVENTS, stripe_event_retry

if TYPE_CHECKING:
    from clientledger.accounts.models import Agency, User

KEY_LABELS = {
    "secret_key": "A secret key",
    "publishable_key": "A publishable key",
    "webhook_secret": "A webhook signing secret",
}
SECRET_FIELDS = ("secret_key", "webhook_secret")
ACCOUNT_FIELDS = ("secret_key", "publishable_key", "webhook_secret", "allow_partial_payments")

# The inbox's events that may be applied again; a processed one has nothing left to do.
REPROCESSABLE_STATUSES = frozenset({StripeEventStatus.FAILED, StripeEventStatus.RECEIVED})


class KeySource(models.TextChoices):
    SAVED = "saved", "Saved"
    ENVIRONMENT = "environment", "From the environment"
    NOT_SET = "not_set", "Not set"


@dataclass(frozen=True)
class StripeSetup:
    """What the settings page shows: where each key comes from, never a secret's value."""

    secret_key: KeySource
    publishable_key: KeySource
    webhook_secret: KeySource
    configured: bool
    test_mode: bool
    allow_partial_payments: bool
    # Publishable keys are public (every Checkout page shows one), so the form shows it.
    saved_publishable_key: str
    webhook_url: str
    webhook_events: tuple[str, ...] = STRIPE_WEBHOOK_EVENTS


def _stored_account(agency: Agency) -> StripeAccount | None:
    # The accessor caches the row (or its absence) on the agency, like `stripe_keys` does.
    return getattr(agency, "stripe_account", None)


def _key_source(account: StripeAccount | None, field: str) -> KeySource:
    if account is not None and getattr(account, field):
        return KeySource.SAVED
    if getattr(settings, f"STRIPE_{field.upper()}"):
        return KeySource.ENVIRONMENT
    return KeySource.NOT_SET


def stripe_setup(agency: Agency) -> StripeSetup:
    account = _stored_account(agency)
    return StripeSetup(
        secret_key=_key_source(account, "secret_key"),
        publishable_key=_key_source(account, "publishable_key"),
        webhook_secret=_key_source(account, "webhook_secret"),
        configured=stripe_configured(agency),
        test_mode=stripe_test_mode(agency),
        allow_partial_payments=bool(account and account.allow_partial_payments),
        saved_publishable_key=account.publishable_key if account else "",
        webhook_url=settings.SITE_URL + reverse("stripe_webhook"),
    )


def stripe_test_mode(agency: Agency) -> bool:
    """Whether the agency's effective keys are test keys (the staff pages' badge)."""
    return stripe_keys(agency).is_test_mode


def _check_keys(account: StripeAccount, agency: Agency) -> None:
    errors: dict[str, str] = {}
    for field, prefixes in KEY_PREFIXES.items():
        key = getattr(account, field)
        if key and key_mode(field, key) is None:
            expected = " or ".join(prefixes)
            errors[field] = f"{KEY_LABELS[field]} starts with {expected}."
    if errors:
        raise ValidationError(errors)
    # Only the agency's own keys can be wrong here; the environment is checked where it is set.
    if not (account.secret_key or account.publishable_key):
        return
    # The keys as they will be once saved, on a copy: the page showing the errors must still
    # see the stored ones.
    agency_after = copy.copy(agency)
    agency_after.stripe_account = account
    effective = stripe_keys(agency_after)
    secret_mode = key_mode("secret_key", effective.secret_key)
    publishable_mode = key_mode("publishable_key", effective.publishable_key)
    if secret_mode and publishable_mode and secret_mode != publishable_mode:
        field = "publishable_key" if account.publishable_key else "secret_key"
        raise ValidationError(
            {
                field: f"The secret key is a {secret_mode} key and the publishable key a "
                f"{publishable_mode} key: use both keys from Stripe's test mode or both "
                "from live mode."
            }
        )


def stripe_account_update(
    *,
    agency: Agency,
    actor: User | None,
    secret_key: str | None,
    publishable_key: str,
    webhook_secret: str | None,
    allow_partial_payments: bool,
) -> StripeAccount:
    """Save the agency's Stripe settings. A secret given as None keeps the stored one and an
    empty one removes it (the environment's then applies); the publishable key is replaced
    as given. The audit trail names the changed fields, never their values."""
    with transaction.atomic():
        account, _ = StripeAccount.objects.select_for_update().get_or_create(agency=agency)
        before = {field: getattr(account, field) for field in ACCOUNT_FIELDS}
        account.publishable_key = publishable_key.strip()
        account.allow_partial_payments = allow_partial_payments
        if secret_key is not None:
            account.secret_key = secret_key.strip()
        if webhook_secret is not None:
            account.webhook_secret = webhook_secret.strip()
        _check_keys(account, agency)
        changed = [field for field in ACCOUNT_FIELDS if getattr(account, field) != before[field]]
        if not changed:
            return account
        account.updated_at = clock.now()
        account.save()
        audit_record(
            agency=agency,
            actor=actor,
            verb=StripeVerb.SETTINGS_UPDATED,
            subject=account,
            data={"fields": changed},
        )
    return account


# --- the event inbox -------------------------------------------------------------------------

STRIPE_EVENT_ORDERING = ("-received_at", "-id")


def stripe_event_list(
    *, agency: Agency, status: str = "", search: str = ""
) -> QuerySet[StripeEvent]:
    """The agency's webhook events, filtered by status and by Stripe event id or type."""
    events = StripeEvent.objects.filter(agency=agency)
    if status:
        events = events.filter(status=status)
    if search:
        events = events.filter(Q(stripe_id=search) | Q(type__icontains=search))
    return events


def stripe_event_get(*, agency: Agency, pk: int) -> StripeEvent:
    return StripeEvent.objects.get(agency=agency, pk=pk)


def stripe_event_reprocess(*, event: StripeEvent, actor: User | None) -> StripeEvent:
    """Apply a failed or never processed event again and record who asked and what came of it."""
    before = StripeEvent.objects.values_list("status", flat=True).get(pk=event.pk)
    if before not in REPROCESSABLE_STATUSES:
        raise ValidationError(
            f"Event {event.stripe_id} is already {StripeEventStatus(before).label.lower()}; "
            "there is nothing to reprocess."
        )
    # No transaction around it: processing reads Stripe back before it locks the event and
    # the books, and converges when two people reprocess the same event at once.
    outcome = stripe_event_retry(event_id=event.pk)
    # An event naming no agency of ours has no trail to be recorded in.
    if outcome.agency is not None:
        audit_record(
            agency=outcome.agency,
            actor=actor,
            verb=StripeVerb.EVENT_REPROCESSED,
            subject=outcome,
            data={"from": before, "to": outcome.status, "type": outcome.type},
        )
    return outcome
