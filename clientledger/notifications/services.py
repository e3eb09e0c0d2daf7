"""Queueing email in the writer's transaction and delivering it after commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, NotRequired, TypedDict, TypeVar, Unpack

from django.apps import apps
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string

from clientledger.core import clock
from clientledger.core.bulk import rows_write
from clientledger.core.outbox import MAX_ATTEMPTS, backoff, claim
from clientledger.core.rows import row_insert, row_write
from clientledger.core.text import header_text
from clientledger.notifications.email_context import context_decode, context_encode
from clientledger.notifications.models import EmailMessage, EmailStatus

if TYPE_CHECKING:
    from clientledger.accounts.models import Agency

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)

# How each kind of attached row becomes a file (name, bytes), registered by the app that owns
# it (billing's documents), so that this module needs to know no such app.
_ATTACHMENT_RENDERERS: dict[str, Callable[[Any], tuple[str, bytes]]] = {}
# What a template's context derives at delivery from the stored one, registered likewise.
_CONTEXT_BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def attachment_renderer_register(model: type[M], render: Callable[[M], tuple[str, bytes]]) -> None:
    _ATTACHMENT_RENDERERS[model._meta.label_lower] = render


def email_context_register(
    template: str, build: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """Let the app that owns `template` add, at delivery, what its context derives from the
    stored one (a statement computed for its period), so that the outbox row holds only
    what identifies it."""
    _CONTEXT_BUILDERS[template] = build


class EmailFields(TypedDict):
    """What a queued message is made of (`email_enqueue`, `email_write`, `email_build`)."""

    agency: Agency | None
    to: list[str]
    subject: str
    template: str
    context: dict[str, Any]
    attach: NotRequired[models.Model | None]


def email_enqueue(**fields: Unpack[EmailFields]) -> EmailMessage:
    """Queue a branded email; it is rendered and sent after the surrounding transaction
    commits, from `template` and `context` (rows in it are read again then).

    `attach` names a document whose stored PDF goes with the email (rendered on delivery if
    the runner has not rendered it yet)."""
    message = email_build(**fields)
    row_insert(message)
    return message


def email_write(**fields: Unpack[EmailFields]) -> None:
    """Queue a message as `email_enqueue` does, written from its values without a model
    instance or its id read back: for writers that do not read the message again in their
    transaction (a payment's receipt: every payment queues one)."""
    row_write(EmailMessage, EmailRow._fields, _message_row(**fields))


def email_build(**fields: Unpack[EmailFields]) -> EmailMessage:
    """The unsaved outbox row `email_enqueue` saves."""
    return EmailMessage(**_message_row(**fields)._asdict())


def _message_row(
    *,
    agency: Agency | None,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    attach: models.Model | None = None,
) -> EmailRow:
    return email_row(
        agency_id=agency.pk if agency is not None else None,
        to=to,
        subject=subject,
        template=template,
        context=context,
        attach=attach,
    )


class EmailRow(NamedTuple):
    """A queued message's values, for batch writers that queue tens of thousands
    (`emails_write`) without a model instance each."""

    agency_id: int | None
    to: list[str]
    subject: str
    template: str
    context: dict[str, Any]
    attach_document_type: str
    attach_document_id: int | None


def email_row(
    *,
    agency_id: int | None,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    attach: models.Model | None = None,
) -> EmailRow:
    return EmailRow(
        agency_id=agency_id,
        to=to,
        subject=subject,
        template=template,
        context=context_encode(context),
        attach_document_type=attach._meta.label_lower if attach is not None else "",
        attach_document_id=attach.pk if attach is not None else None,
    )


def emails_write(rows: Sequence[EmailRow]) -> None:
    """Queue many messages in the caller's transaction, in multi-row writes."""
    rows_write(EmailMessage, EmailRow._fields, rows)


@dataclass(frozen=True)
class RenderedEmail:
    text: str
    html: str


def email_render(message: EmailMessage) -> RenderedEmail:
    """The bodies of `message` as they would be sent now: rendered from its template and
    context (the rows it refers to as they are now), or the ones stored when it was queued
    or sent."""
    if not message.template or message.sent_at is not None:
        return RenderedEmail(text=message.body_text, html=message.body_html)
    context = context_decode(message.context)
    build = _CONTEXT_BUILDERS.get(message.template)
    if build is not None:
        context = build(context)
    context = {**context, "agency": message.agency}
    name = f"notifications/email/{message.template}"
    return RenderedEmail(
        text=render_to_string(f"{name}.txt", context),
        html=render_to_string(f"{name}.html", context),
    )


def email_deliver(*, message_id: int, as_of: dt.datetime) -> str:
    """Render and send one claimed message and record the outcome, retrying with backoff."""
    message = EmailMessage.objects.select_related("agency").get(pk=message_id)
    message.attempts += 1
    try:
        rendered = email_render(message)
        email = EmailMultiAlternatives(
            # Subjects are built from names people typed: a line break would make Django
            # refuse the header on every attempt, so the subject is put on one line here.
            subject=header_text(message.subject),
            body=rendered.text,
            to=message.to,
            reply_to=None,
        )
        if rendered.html:
            email.attach_alternative(rendered.html, "text/html")
        if message.attach_document_id is not None:
            email.attach(*_document_attachment(message), "application/pdf")
        email.send(fail_silently=False)
    except Exception as exc:  # any failure is retried, not raised into the sweep
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
        # What the client received, as sent.
        message.body_text, message.body_html = rendered.text, rendered.html
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
                "body_text",
                "body_html",
            ]
        )
    return message.status


def _document_attachment(message: EmailMessage) -> tuple[str, bytes]:
    model = apps.get_model(message.attach_document_type)
    document = model.objects.select_related("agency", "client").get(pk=message.attach_document_id)
    return _ATTACHMENT_RENDERERS[message.attach_document_type](document)


def email_send(*, message_id: int, as_of: dt.datetime) -> str | None:
    """Claim one due message and send it: its status afterwards, or None when it was no
    longer due (sent, or claimed by another worker), so repeating the call sends nothing
    twice."""
    if not claim(EmailMessage, pk=message_id, as_of=as_of):
        return None
    return email_deliver(message_id=message_id, as_of=as_of)


def emails_send(*, ids: list[int], as_of: dt.datetime) -> dict[str, int]:
    """`email_send` for each of `ids`: how many messages ended in each status."""
    outcome: Counter[str] = Counter()
    for message_id in ids:
        status = email_send(message_id=message_id, as_of=as_of)
        if status is not None:
            outcome[status] += 1
    return dict(outcome)
