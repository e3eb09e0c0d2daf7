from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from clientledger.accounts.models import Agency
from clientledger.core import clock
from clientledger.core.outbox import MAX_ATTEMPTS, backoff, claim_due
from clientledger.notifications.models import EmailMessage, EmailStatus

logger = logging.getLogger(__name__)


def email_enqueue(
    *,
    agency: Agency | None,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, Any],
) -> EmailMessage:
    """Queue a branded email; it is sent after the surrounding transaction commits."""
    context = {"agency": agency, **context}
    return EmailMessage.objects.create(
        agency=agency,
        to=to,
        subject=subject,
        body_text=render_to_string(f"notifications/email/{template}.txt", context),
        body_html=render_to_string(f"notifications/email/{template}.html", context),
    )


def email_deliver(*, message_id: int, as_of: dt.datetime) -> str:
    """Send one claimed message and record the outcome, retrying with backoff."""
    message = EmailMessage.objects.select_related("agency").get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=message.to,
        reply_to=None,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    message.attempts += 1
    try:
        email.send(fail_silently=False)
    except Exception as exc:  # any transport failure is retried, not raised into the sweep
        logger.warning("email %s failed: %s", message.pk, exc)
        message.last_error = f"{type(exc).__name__}: {exc}"
        if message.attempts >= MAX_ATTEMPTS:
            message.status = EmailStatus.FAILED
        else:
            message.status = EmailStatus.QUEUED
            message.next_attempt_at = as_of + backoff(message.attempts)
    else:
        message.status = EmailStatus.SENT
        message.sent_at = clock.now()
        message.last_error = ""
    message.claimed_at = None
    with transaction.atomic():
        message.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "last_error",
                "sent_at",
                "claimed_at",
            ]
        )
    return message.status


def emails_send_due(*, as_of: dt.datetime, batch: int = 50) -> dict[str, int]:
    outcome: dict[str, int] = {}
    for message_id in claim_due(EmailMessage, as_of=as_of, batch=batch):
        status = email_deliver(message_id=message_id, as_of=as_of)
        outcome[status] = outcome.get(status, 0) + 1
    return outcome
