"""Sending estimates, invoices and credit notes by email with a client link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.audit_verbs import DOCUMENT_VERBS
from clientledger.billing.models import (
    BillingDocument,
    CreditNote,
    CreditNoteStatus,
    DocumentLine,
    DocumentSeries,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoiceStatus,
    PortalLink,
)
from clientledger.billing.portal_tokens import portal_url
from clientledger.billing.services.common import (
    document_kind,
    document_lines,
    document_lock,
    document_noun,
)
from clientledger.billing.services.numbering import number_take
from clientledger.billing.services.portal_links import portal_link_build
from clientledger.billing.services.snapshots import snapshot_freeze
from clientledger.billing.states import estimate_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.audit_verbs import AuditVerb
from clientledger.lines.pricing import StoredAmount, recurring_amounts
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_build

MAX_RECIPIENTS = 10
# An issued invoice is sent, and sent again as a reminder, until it is void or uncollectible.
INVOICE_SENDABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID})


def recipients_clean(recipients: list[str]) -> list[str]:
    """Valid, lower-cased, without repeats; at least one and at most MAX_RECIPIENTS."""
    cleaned: list[str] = []
    for address in recipients:
        address = address.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                {"recipients": f"“{address}” is not a valid email address."}
            ) from exc
        if address not in cleaned:
            cleaned.append(address)
    if not cleaned:
        raise ValidationError({"recipients": "Choose at least one recipient."})
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": f"Send to at most {MAX_RECIPIENTS} people at once."})
    return cleaned


@dataclass(frozen=True)
class Sending:
    """The rows sending a document writes: a fresh client link and the branded email with
    the PDF attached; and what its audit event records."""

    link: PortalLink
    email: EmailMessage
    audit: SentAudit


class SentAudit(TypedDict):
    agency: Agency
    actor: User | None
    verb: AuditVerb
    subject: BillingDocument
    client_id: int
    data: dict[str, Any]


def sending_build(
    document: BillingDocument,
    *,
    lines: Iterable[DocumentLine],
    actor: User | None,
    recipients: list[str],
    message: str,
) -> Sending:
    """The unsaved rows of sending `document` (its `lines` in hand), which
    `document_email_queue` saves (the batch writer writes the same as rows: `batches`)."""
    link, token = portal_link_build(document)
    kind = document_kind(document)
    email = email_build(
        agency=document.agency,
        to=recipients,
        attach=document,
        **sent_email(document, lines=lines, link=portal_url(token), message=message),
    )
    audit: SentAudit = {
        "agency": document.agency,
        "actor": actor,
        "verb": DOCUMENT_VERBS[kind].sent,
        "subject": document,
        "client_id": document.client_id,
        "data": {"to": recipients},
    }
    return Sending(link=link, email=email, audit=audit)


class SentEmail(TypedDict):
    subject: str
    template: str
    context: dict[str, Any]


def sent_email(
    document: BillingDocument,
    *,
    lines: Iterable[StoredAmount],
    link: str,
    message: str,
    recurring: list[str] | None = None,
) -> SentEmail:
    """What the email sending `document` says (rendered when it is delivered): its PDF is
    attached, `link` is its fresh client link. `recurring`: the `recurring_amounts` of its
    lines, when the caller has them (a batch sending many invoices of the same lines)."""
    if recurring is None:
        recurring = recurring_amounts(lines, document.currency)
    return {
        "subject": f"{document.agency.name}: {document_noun(document)} {document.number}",
        "template": f"{document_kind(document)}_sent",
        "context": {
            "document": document,
            "link": link,
            "message": message,
            "recurring": recurring,
        },
    }


def document_email_queue(
    document: BillingDocument, *, actor: User | None, recipients: list[str], message: str
) -> None:
    """Queue the branded email with the PDF attached and a fresh portal link (same transaction)."""
    sending = sending_build(
        document,
        lines=document_lines(document),
        actor=actor,
        recipients=recipients,
        message=message,
    )
    sending.link.save(force_insert=True)
    sending.email.save(force_insert=True)
    document.sent_at = clock.now()
    audit_record(**sending.audit)


def estimate_send(
    *, estimate: Estimate, actor: User | None, recipients: list[str], message: str = ""
) -> Estimate:
    """Send (or resend) an estimate; the first send gives it its number and freezes it."""
    to = recipients_clean(recipients)
    with transaction.atomic():
        locked = document_lock(estimate)
        estimate_transition_check(locked.status, EstimateStatus.SENT)
        if locked.status == EstimateStatus.DRAFT:
            today = clock.agency_today(locked.agency)
            snapshot_freeze(locked)
            locked.number = number_take(
                agency=locked.agency, series=DocumentSeries.ESTIMATE, on=today
            )
            locked.issue_date = today
            locked.valid_until = locked.valid_until or today + dt.timedelta(
                days=locked.agency.estimate_validity_days
            )
            if locked.valid_until < today:
                raise ValidationError({"valid_until": "The validity date is in the past."})
            locked.status = EstimateStatus.SENT
        document_email_queue(locked, actor=actor, recipients=to, message=message)
        locked.updated_at = clock.now()
        locked.save()
    return locked


def credit_note_send(
    *, credit_note: CreditNote, actor: User | None, recipients: list[str], message: str = ""
) -> CreditNote:
    """Send (or resend) an issued credit note with its PDF and a client link."""
    to = recipients_clean(recipients)
    with transaction.atomic():
        locked = document_lock(credit_note)
        if locked.status != CreditNoteStatus.ISSUED:
            raise ValidationError("A draft credit note cannot be sent; issue it first.")
        document_email_queue(locked, actor=actor, recipients=to, message=message)
        locked.save(update_fields=["sent_at"])
    return locked


def invoice_send(
    *, invoice: Invoice, actor: User | None, recipients: list[str], message: str = ""
) -> Invoice:
    to = recipients_clean(recipients)
    with transaction.atomic():
        locked = document_lock(invoice)
        if locked.status not in INVOICE_SENDABLE:
            raise ValidationError(f"A {locked.status} invoice cannot be sent; issue it first.")
        document_email_queue(locked, actor=actor, recipients=to, message=message)
        locked.save(update_fields=["sent_at"])
    return locked
