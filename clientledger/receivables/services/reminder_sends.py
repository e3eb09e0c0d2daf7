"""Sending a decided reminder once, under the document's lock, or logging why not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import IntegrityError, transaction

from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.common import document_lock
from clientledger.core import clock
from clientledger.core.audit import AuditVerb, audit_record
from clientledger.core.money import from_minor
from clientledger.notifications.models import EmailMessage
from clientledger.receivables.audit_verbs import EstimateRemindersVerb, InvoiceRemindersVerb
from clientledger.receivables.models import (
    Reminder,
    ReminderOutcome,
    ReminderStep,
    SkipReason,
)
from clientledger.receivables.selectors import (
    estimate_skip_reason,
    invoice_skip_reason,
    reminder_recipients,
)
from clientledger.receivables.services.emails import (
    estimate_reminder_enqueue,
    invoice_reminder_enqueue,
)
from clientledger.receivables.services.reminder_decisions import Decision

D = TypeVar("D", Invoice, Estimate)


def _superseded_rows(
    decision: Decision, *, agency_id: int, currency: str, as_of: dt.datetime
) -> list[Reminder]:
    return [
        Reminder(
            agency_id=agency_id,
            client_id=decision.client_id,
            step=step,
            **{f"{decision.document}_id": decision.document_id},
            outcome=ReminderOutcome.SKIPPED,
            skip_reason=SkipReason.SUPERSEDED,
            due_on=due_on,
            currency=currency,
            decided_at=as_of,
        )
        for step, due_on in decision.superseded
    ]


def _record(reminder: Reminder, superseded: list[Reminder]) -> None:
    """Log the decision and the steps it supersedes. A second log of the step breaks the
    unique constraint and rolls back the whole settlement, its email included."""
    reminder.save(force_insert=True)
    Reminder.objects.bulk_create(superseded, ignore_conflicts=True)


@dataclass(frozen=True)
class _Reminded(Generic[D]):
    """What a reminder of one kind of document reads and writes beyond what every kind does."""

    model: type[D]
    skip_reason: Callable[[D, dt.date], str]
    amount_minor: Callable[[D], int]
    enqueue: Callable[[D, ReminderStep, list[str], dt.date], EmailMessage]
    verb: AuditVerb
    audit_amount: bool


def _document_settle(kind: _Reminded[D], decision: Decision, as_of: dt.datetime) -> str:
    """Send the decided step of a document, or log why not, checking the document again under
    its lock: a payment or an answer committed since the decision means no reminder. Returns
    the outcome ("sent" or the skip reason), or "" when the step was decided already."""
    document = document_lock(kind.model(pk=decision.document_id))
    this_document = {decision.document: document}
    if Reminder.objects.filter(**this_document, step=decision.step).exists():
        return ""
    today = clock.agency_today(document.agency, as_of=as_of)
    reason = kind.skip_reason(document, today)
    recipients = [] if reason else reminder_recipients(client=document.client)
    if not reason and not recipients:
        reason = SkipReason.NO_RECIPIENT
    amount_minor = kind.amount_minor(document)
    reminder = Reminder(
        agency_id=document.agency_id,
        client_id=document.client_id,
        step=decision.step,
        **this_document,
        outcome=ReminderOutcome.SKIPPED if reason else ReminderOutcome.SENT,
        skip_reason=reason,
        due_on=decision.due_on,
        balance_minor=amount_minor,
        currency=document.currency,
        recipients=recipients,
        decided_at=as_of,
    )
    if not reason:
        reminder.email = kind.enqueue(document, decision.step, recipients, today)
    _record(
        reminder,
        _superseded_rows(
            decision, agency_id=document.agency_id, currency=document.currency, as_of=as_of
        ),
    )
    if reason:
        return reason
    amount = (
        {"amount": from_minor(amount_minor, document.currency), "currency": document.currency}
        if kind.audit_amount
        else {}
    )
    audit_record(
        agency=document.agency,
        actor=None,
        verb=kind.verb,
        subject=document,
        client_id=document.client_id,
        data={"step": str(decision.step), "to": recipients, **amount},
    )
    return ReminderOutcome.SENT


_INVOICE = _Reminded[Invoice](
    model=Invoice,
    skip_reason=lambda invoice, _today: invoice_skip_reason(invoice),
    amount_minor=lambda invoice: invoice.balance_due_minor,
    enqueue=lambda invoice, step, recipients, today: invoice_reminder_enqueue(
        invoice=invoice, step=step, recipients=recipients, today=today
    ),
    verb=InvoiceRemindersVerb.REMINDER_SENT,
    audit_amount=True,
)
# The estimate's follow-up, unless the client answered it (or it expired) meanwhile.
_ESTIMATE = _Reminded[Estimate](
    model=Estimate,
    skip_reason=estimate_skip_reason,
    amount_minor=lambda estimate: estimate.total_minor,
    enqueue=lambda estimate, step, recipients, today: estimate_reminder_enqueue(
        estimate=estimate, step=step, recipients=recipients, today=today
    ),
    verb=EstimateRemindersVerb.REMINDER_SENT,
    audit_amount=False,
)


def _once(kind: _Reminded[D]) -> Callable[..., str]:
    """Settle a decision in one transaction; "" when the step was logged already (seen under
    the lock, or, failing that, refused by the unique constraint)."""

    def settle_once(*, decision: Decision, as_of: dt.datetime) -> str:
        try:
            with transaction.atomic():
                return _document_settle(kind, decision, as_of)
        except IntegrityError:
            return ""

    return settle_once


invoice_reminder_settle = _once(_INVOICE)
estimate_reminder_settle = _once(_ESTIMATE)
