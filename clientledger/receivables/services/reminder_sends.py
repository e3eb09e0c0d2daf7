"""Sending a decided reminder once, under the document's lock, or logging why not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction

from clientledger.billing.models import Estimate, EstimateStatus, Invoice
from clientledger.billing.services.common import document_lock
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.receivables.audit_verbs import EstimateRemindersVerb, InvoiceRemindersVerb
from clientledger.receivables.models import (
    Reminder,
    ReminderOutcome,
    SkipReason,
)
from clientledger.receivables.selectors import invoice_skip_reason, reminder_recipients
from clientledger.receivables.services.emails import (
    estimate_reminder_enqueue,
    invoice_reminder_enqueue,
)
from clientledger.receivables.services.reminder_decisions import Decision


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


def _once(settle: Callable[[Decision, dt.datetime], str]) -> Callable[..., str]:
    """Settle a decision in one transaction; "" when the step was logged already (seen under
    the lock, or, failing that, refused by the unique constraint)."""

    def settle_once(*, decision: Decision, as_of: dt.datetime) -> str:
        try:
            with transaction.atomic():
                return settle(decision, as_of)
        except IntegrityError:
            return ""

    settle_once.__doc__ = settle.__doc__
    return settle_once


def _invoice_settle(decision: Decision, as_of: dt.datetime) -> str:
    """Send the decided step of an invoice, or log why not, checking the invoice again under
    its lock: a payment committed since the decision means no reminder. Returns the outcome
    ("sent" or the skip reason), or "" when the step was decided already."""
    invoice = document_lock(Invoice(pk=decision.document_id))
    if Reminder.objects.filter(invoice=invoice, step=decision.step).exists():
        return ""
    today = clock.agency_today(invoice.agency, as_of=as_of)
    reason = invoice_skip_reason(invoice)
    recipients = [] if reason else reminder_recipients(client=invoice.client)
    if not reason and not recipients:
        reason = SkipReason.NO_RECIPIENT
    reminder = Reminder(
        agency_id=invoice.agency_id,
        client_id=invoice.client_id,
        step=decision.step,
        invoice=invoice,
        outcome=ReminderOutcome.SKIPPED if reason else ReminderOutcome.SENT,
        skip_reason=reason,
        due_on=decision.due_on,
        balance_minor=invoice.balance_due_minor,
        currency=invoice.currency,
        recipients=recipients,
        decided_at=as_of,
    )
    if not reason:
        reminder.email = invoice_reminder_enqueue(
            invoice=invoice, step=decision.step, recipients=recipients, today=today
        )
    _record(
        reminder,
        _superseded_rows(
            decision, agency_id=invoice.agency_id, currency=invoice.currency, as_of=as_of
        ),
    )
    if reason:
        return reason
    audit_record(
        agency=invoice.agency,
        actor=None,
        verb=InvoiceRemindersVerb.REMINDER_SENT,
        subject=invoice,
        client_id=invoice.client_id,
        data={
            "step": str(decision.step),
            "to": recipients,
            "amount": from_minor(invoice.balance_due_minor, invoice.currency),
            "currency": invoice.currency,
        },
    )
    return ReminderOutcome.SENT


def _estimate_settle(decision: Decision, as_of: dt.datetime) -> str:
    """The estimate's follow-up, unless the client answered it (or it expired) meanwhile."""
    estimate = document_lock(Estimate(pk=decision.document_id))
    if Reminder.objects.filter(estimate=estimate, step=decision.step).exists():
        return ""
    today = clock.agency_today(estimate.agency, as_of=as_of)
    reason = ""
    if estimate.status != EstimateStatus.SENT:
        reason = (
            SkipReason.ANSWERED if estimate.status != EstimateStatus.EXPIRED else SkipReason.CLOSED
        )
    elif estimate.valid_until is not None and estimate.valid_until < today:
        reason = SkipReason.CLOSED
    recipients = [] if reason else reminder_recipients(client=estimate.client)
    if not reason and not recipients:
        reason = SkipReason.NO_RECIPIENT
    reminder = Reminder(
        agency_id=estimate.agency_id,
        client_id=estimate.client_id,
        step=decision.step,
        estimate=estimate,
        outcome=ReminderOutcome.SKIPPED if reason else ReminderOutcome.SENT,
        skip_reason=reason,
        due_on=decision.due_on,
        balance_minor=estimate.total_minor,
        currency=estimate.currency,
        recipients=recipients,
        decided_at=as_of,
    )
    if not reason:
        reminder.email = estimate_reminder_enqueue(
            estimate=estimate, step=decision.step, recipients=recipients, today=today
        )
    _record(
        reminder,
        _superseded_rows(
            decision, agency_id=estimate.agency_id, currency=estimate.currency, as_of=as_of
        ),
    )
    if reason:
        return reason
    audit_record(
        agency=estimate.agency,
        actor=None,
        verb=EstimateRemindersVerb.REMINDER_SENT,
        subject=estimate,
        client_id=estimate.client_id,
        data={"step": str(decision.step), "to": recipients},
    )
    return ReminderOutcome.SENT


invoice_reminder_settle = _once(_invoice_settle)
estimate_reminder_settle = _once(_estimate_settle)
