"""Reads of reminders: whom a reminder goes to, what holds an invoice's reminders back, and
the invoice's dunning timeline. Always scoped by agency."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from clientledger.accounts.models import Agency
from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.billing.selectors import document_recipients, suggested_recipients
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.receivables.conditions import (
    invoice_disputed_condition,
    invoice_paused_condition,
    invoice_payment_pending_condition,
)
from clientledger.receivables.models import (
    ClientReminderSetting,
    InvoiceReminderState,
    InvoiceReminderStatus,
    Reminder,
    ReminderOutcome,
    ReminderPolicy,
    ReminderStep,
    ReminderTrigger,
    SkipReason,
)


def reminder_recipients(*, client: Client) -> list[str]:
    """Where a reminder goes: where a document is sent unless the sender chooses (the
    client's billing contacts and billing email)."""
    return suggested_recipients(document_recipients(client=client))


def invoice_closed_reason(invoice: Invoice) -> str:
    """Why an invoice is owed no reminder whatever its holds: nothing is due on it."""
    if invoice.status == InvoiceStatus.VOID:
        return SkipReason.VOID
    fully_credited = invoice.amount_credited_minor >= invoice.total_minor
    if invoice.status == InvoiceStatus.PAID or (
        invoice.status == InvoiceStatus.OPEN and invoice.balance_due_minor <= 0
    ):
        return SkipReason.CREDITED if fully_credited else SkipReason.PAID
    if invoice.status != InvoiceStatus.OPEN:
        return SkipReason.CLOSED
    return ""


def invoice_skip_reason(invoice: Invoice) -> str:
    """Why the invoice gets no reminder now, "" when it does (one query for its holds)."""
    closed = invoice_closed_reason(invoice)
    if closed:
        return closed
    holds = (
        Invoice.objects.filter(pk=invoice.pk)
        .annotate(
            paused=invoice_paused_condition(),
            disputed=invoice_disputed_condition(),
            pending=invoice_payment_pending_condition(),
        )
        .values("paused", "disputed", "pending")
        .get()
    )
    if holds["paused"]:
        return SkipReason.PAUSED
    if holds["disputed"]:
        return SkipReason.DISPUTED
    if holds["pending"]:
        return SkipReason.PAYMENT_PENDING
    return ""


def estimate_skip_reason(estimate: Estimate, today: dt.date) -> str:
    """Why a sent estimate gets no follow-up on `today`, "" when it does: the client answered
    it, or it is closed (expired, or past its validity)."""
    if estimate.status == EstimateStatus.EXPIRED:
        return SkipReason.CLOSED
    if estimate.status != EstimateStatus.SENT:
        return SkipReason.ANSWERED
    if estimate.valid_until is not None and estimate.valid_until < today:
        return SkipReason.CLOSED
    return ""


def client_reminder_policy(*, agency: Agency, client: Client) -> tuple[ReminderPolicy | None, bool]:
    """The policy the client follows and whether it is the agency's default by no choice; a
    client set to no reminders follows none."""
    setting = (
        ClientReminderSetting.objects.filter(agency=agency, client=client)
        .select_related("policy")
        .first()
    )
    if setting is not None:
        return setting.policy, False
    return ReminderPolicy.objects.filter(agency=agency, is_default=True).first(), True


def policy_list(*, agency: Agency) -> list[ReminderPolicy]:
    return list(ReminderPolicy.objects.filter(agency=agency).prefetch_related("steps"))


def policy_get(*, agency: Agency, pk: int) -> ReminderPolicy:
    return ReminderPolicy.objects.prefetch_related("steps").get(agency=agency, pk=pk)


def next_sending_moment(policy: ReminderPolicy, day: dt.date, tz_name: str) -> dt.datetime:
    """When a step due on `day` goes out: the policy's hour, on the next day it sends."""
    while policy.business_days_only and day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(policy.send_hour), tzinfo=ZoneInfo(tz_name))


TimelineState = Literal["sent", "skipped", "planned", "held", "off"]


@dataclass(frozen=True)
class TimelineEntry:
    """One step of an invoice's dunning: sent (when, to whom, the balance the email showed),
    skipped and why, planned (when), held back now (why), or not planned (reminders off)."""

    label: str
    offset_days: int
    day: dt.date
    state: TimelineState
    reason: str = ""
    at: dt.datetime | None = None
    recipients: tuple[str, ...] = ()
    balance_minor: int | None = None

    @property
    def reason_label(self) -> str:
        return SkipReason(self.reason).label if self.reason else ""


@dataclass(frozen=True)
class InvoiceReminderTimeline:
    invoice: Invoice
    policy: ReminderPolicy | None
    follows_default: bool
    pause: InvoiceReminderState | None
    entries: list[TimelineEntry]
    next_planned: TimelineEntry | None

    @property
    def is_paused(self) -> bool:
        return self.pause is not None and self.pause.status == InvoiceReminderStatus.PAUSED

    @property
    def last_sent(self) -> TimelineEntry | None:
        sent = [entry for entry in self.entries if entry.state == "sent"]
        return sent[-1] if sent else None


def _step_label(step: ReminderStep) -> str:
    days = abs(step.offset_days)
    if step.offset_days == 0:
        return "On the due date"
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {'before' if step.offset_days < 0 else 'after'} the due date"


def _logged_entry(reminder: Reminder) -> TimelineEntry:
    """A reminder already decided, as the timeline shows it: sent or skipped."""
    return TimelineEntry(
        label=_step_label(reminder.step),
        offset_days=reminder.step.offset_days,
        day=reminder.due_on,
        state="sent" if reminder.outcome == ReminderOutcome.SENT else "skipped",
        reason=reminder.skip_reason,
        at=(reminder.email.sent_at if reminder.email else None) or reminder.decided_at,
        recipients=tuple(reminder.recipients),
        balance_minor=reminder.balance_minor,
    )


def invoice_reminder_timeline(
    *, agency: Agency, invoice: Invoice, as_of: dt.datetime | None = None
) -> InvoiceReminderTimeline:
    """The invoice's reminders: every step logged, then the policy's steps still to come.

    A step not yet logged is planned at its sending moment; when the invoice is closed (paid,
    credited, void) it is skipped for that reason, and while a hold (paused, disputed, bank
    payment pending) lasts it is held. Only the latest step already due is planned: the older
    ones will be superseded."""
    moment = as_of or clock.now()
    today = clock.agency_today(agency, as_of=moment)
    policy, follows_default = client_reminder_policy(agency=agency, client=invoice.client)
    logged = list(
        Reminder.objects.filter(agency=agency, invoice=invoice)
        .select_related("step", "email")
        .order_by("due_on", "id")
    )
    entries = [_logged_entry(reminder) for reminder in logged]
    pause = InvoiceReminderState.objects.filter(agency=agency, invoice=invoice).first()
    logged_steps = {reminder.step_id for reminder in logged}
    if policy is None or invoice.due_date is None or invoice.status == InvoiceStatus.DRAFT:
        return InvoiceReminderTimeline(invoice, policy, follows_default, pause, entries, None)
    steps = [
        step
        for step in policy.steps.filter(trigger=ReminderTrigger.INVOICE_DUE, enabled=True)
        if step.pk not in logged_steps
    ]
    # Steps the latest logged one came after are never sent any more.
    last_logged = max((r.step.offset_days for r in logged), default=None)
    if last_logged is not None:
        steps = [step for step in steps if step.offset_days > last_logged]
    closed = invoice_closed_reason(invoice)
    hold = "" if closed else invoice_skip_reason(invoice)
    due_steps = [s for s in steps if invoice.due_date + dt.timedelta(days=s.offset_days) <= today]
    superseded = {step.pk for step in due_steps[:-1]}
    next_planned = None
    for step in steps:
        day = invoice.due_date + dt.timedelta(days=step.offset_days)
        if step.pk in superseded:
            continue
        if closed:
            entry = TimelineEntry(_step_label(step), step.offset_days, day, "skipped", closed)
        elif hold:
            entry = TimelineEntry(_step_label(step), step.offset_days, day, "held", hold)
        elif not policy.enabled:
            entry = TimelineEntry(_step_label(step), step.offset_days, day, "off")
        else:
            at = next_sending_moment(policy, max(day, today), agency.timezone)
            entry = TimelineEntry(_step_label(step), step.offset_days, day, "planned", at=at)
            next_planned = next_planned or entry
        entries.append(entry)
    return InvoiceReminderTimeline(invoice, policy, follows_default, pause, entries, next_planned)


@dataclass(frozen=True)
class ClientReminderSummary:
    policy: ReminderPolicy | None
    follows_default: bool
    paused_invoices: int
    last_reminder: Reminder | None


def client_reminder_summary(*, agency: Agency, client: Client) -> ClientReminderSummary:
    """What the client page says of reminders: which policy, paused invoices, the last one."""
    policy, follows_default = client_reminder_policy(agency=agency, client=client)
    paused = InvoiceReminderState.objects.filter(
        agency=agency,
        invoice__client=client,
        invoice__status=InvoiceStatus.OPEN,
        status=InvoiceReminderStatus.PAUSED,
    ).count()
    last = (
        Reminder.objects.filter(agency=agency, client=client, outcome=ReminderOutcome.SENT)
        .select_related("invoice", "estimate", "step")
        .order_by("-decided_at", "-id")
        .first()
    )
    return ClientReminderSummary(policy, follows_default, paused, last)
