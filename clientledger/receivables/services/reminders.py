"""The reminder sweep: which step of which document is due, decided a batch at a time in a
fixed number of queries, then each sent once under the document's lock.

A step is due once its day (the trigger's date plus its offset, in the agency's timezone)
has come and the policy's sending hour has passed on a day it sends. Only the latest due step
of a document goes out: the older ones a stopped sweep missed are logged as superseded, so a
client never receives a burst. Each policy remembers the last day it was swept through, so a
pass looks only at documents with a step day since then (all of them the first time).
A document issued with a step day already behind that mark waits for its next step."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.billing.services.common import document_lock
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.receivables.audit_verbs import EstimateRemindersVerb, InvoiceRemindersVerb
from clientledger.receivables.conditions import (
    follows_policy_condition,
    invoice_disputed_condition,
    invoice_paused_condition,
    invoice_payment_pending_condition,
)
from clientledger.receivables.models import (
    Reminder,
    ReminderOutcome,
    ReminderPolicy,
    ReminderStep,
    ReminderTrigger,
    SkipReason,
)
from clientledger.receivables.selectors import invoice_skip_reason, reminder_recipients
from clientledger.receivables.services.emails import (
    estimate_reminder_enqueue,
    invoice_reminder_enqueue,
)
from clientledger.receivables.services.policies import reminder_policies_ensure

BATCH_SIZE = 500

DocumentName = Literal["invoice", "estimate"]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Decision:
    """A document's latest due step, and the older due steps it supersedes."""

    document: DocumentName
    document_id: int
    client_id: int
    reference: str
    step: ReminderStep
    due_on: dt.date
    superseded: tuple[tuple[ReminderStep, dt.date], ...]
    # What the batch's flags say now; the send checks again under the document's lock.
    expected_skip: str


@dataclass
class RunSummary:
    dry_run: bool
    policies: int = 0
    documents_checked: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    planned: list[str] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {str(key): count for key, count in self.outcomes.items() if count}


def policy_sends_at(policy: ReminderPolicy, local_now: dt.datetime) -> bool:
    """Whether the policy sends at this moment of its agency's day."""
    if not policy.enabled or local_now.hour < policy.send_hour:
        return False
    return not policy.business_days_only or local_now.weekday() < 5


def latest_due_step(
    steps: Sequence[ReminderStep], anchor: dt.date, today: dt.date
) -> tuple[ReminderStep, list[ReminderStep]] | None:
    """The latest step whose day has come, and the earlier ones (`steps` by offset)."""
    due = [step for step in steps if anchor + dt.timedelta(days=step.offset_days) <= today]
    return (due[-1], due[:-1]) if due else None


def _window(field_name: str, offsets: Sequence[int], since: dt.date | None, today: dt.date) -> Q:
    """Documents with a step day in [since, today]: one range of anchors per offset."""
    if since is None or since > today:
        return Q(**{f"{field_name}__lte": today - dt.timedelta(days=min(offsets))})
    # The last day swept is swept again: a document issued after that pass, with a step on
    # that day, is not missed.
    window = Q()
    for offset in offsets:
        shift = dt.timedelta(days=offset)
        window |= Q(**{f"{field_name}__gte": since - shift, f"{field_name}__lte": today - shift})
    return window


def _batches(
    queryset: QuerySet[Invoice] | QuerySet[Estimate],
) -> Iterator[list[Invoice] | list[Estimate]]:
    last_pk = 0
    while True:
        batch = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:BATCH_SIZE])
        if not batch:
            return
        yield batch  # type: ignore[misc]
        last_pk = batch[-1].pk


def _decide(
    *,
    document: DocumentName,
    rows: Sequence[Invoice | Estimate],
    anchor_field: str,
    steps: Sequence[ReminderStep],
    today: dt.date,
    logged: set[tuple[int, int]],
) -> list[Decision]:
    decisions = []
    for row in rows:
        anchor = getattr(row, anchor_field)
        found = latest_due_step(steps, anchor, today)
        if found is None or (row.pk, found[0].pk) in logged:
            continue
        latest, older = found
        decisions.append(
            Decision(
                document=document,
                document_id=row.pk,
                client_id=row.client_id,
                reference=row.number,
                step=latest,
                due_on=anchor + dt.timedelta(days=latest.offset_days),
                superseded=tuple(
                    (step, anchor + dt.timedelta(days=step.offset_days))
                    for step in older
                    if (row.pk, step.pk) not in logged
                ),
                expected_skip=_flags_skip(row),
            )
        )
    return decisions


def _flags_skip(row: Invoice | Estimate) -> str:
    if getattr(row, "reminders_paused", False):
        return SkipReason.PAUSED
    if getattr(row, "disputed", False):
        return SkipReason.DISPUTED
    if getattr(row, "payment_pending", False):
        return SkipReason.PAYMENT_PENDING
    return ""


def _invoice_decisions(
    policy: ReminderPolicy, steps: Sequence[ReminderStep], today: dt.date, summary: RunSummary
) -> Iterator[Decision]:
    if not steps:
        return
    candidates = (
        Invoice.objects.filter(
            follows_policy_condition(policy),
            _window("due_date", [step.offset_days for step in steps], policy.swept_through, today),
            agency_id=policy.agency_id,
            status=InvoiceStatus.OPEN,
        )
        .annotate(
            reminders_paused=invoice_paused_condition(),
            disputed=invoice_disputed_condition(),
            payment_pending=invoice_payment_pending_condition(),
        )
        .only("pk", "client_id", "number", "due_date", "status")
    )
    for batch in _batches(candidates):
        summary.documents_checked += len(batch)
        logged = set(
            Reminder.objects.filter(
                invoice_id__in=[row.pk for row in batch], step__in=steps
            ).values_list("invoice_id", "step_id")
        )
        yield from _decide(
            document="invoice",
            rows=batch,
            anchor_field="due_date",
            steps=steps,
            today=today,
            logged=logged,
        )


def _estimate_decisions(
    policy: ReminderPolicy,
    trigger: str,
    steps: Sequence[ReminderStep],
    today: dt.date,
    summary: RunSummary,
) -> Iterator[Decision]:
    if not steps:
        return
    anchor_field = "issue_date" if trigger == ReminderTrigger.ESTIMATE_SENT else "valid_until"
    offsets = [step.offset_days for step in steps]
    candidates = Estimate.objects.filter(
        follows_policy_condition(policy),
        _window(anchor_field, offsets, policy.swept_through, today),
        agency_id=policy.agency_id,
        status=EstimateStatus.SENT,
        valid_until__gte=today,
    ).only("pk", "client_id", "number", "issue_date", "valid_until", "status")
    for batch in _batches(candidates):
        summary.documents_checked += len(batch)
        logged = set(
            Reminder.objects.filter(
                estimate_id__in=[row.pk for row in batch], step__in=steps
            ).values_list("estimate_id", "step_id")
        )
        yield from _decide(
            document="estimate",
            rows=batch,
            anchor_field=anchor_field,
            steps=steps,
            today=today,
            logged=logged,
        )


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


def _policy_decisions(
    policy: ReminderPolicy, today: dt.date, summary: RunSummary
) -> Iterator[Decision]:
    steps = [step for step in policy.steps.all() if step.enabled]
    by_trigger = {
        trigger: [step for step in steps if step.trigger == trigger] for trigger in ReminderTrigger
    }
    yield from _invoice_decisions(policy, by_trigger[ReminderTrigger.INVOICE_DUE], today, summary)
    for trigger in (ReminderTrigger.ESTIMATE_SENT, ReminderTrigger.ESTIMATE_EXPIRY):
        yield from _estimate_decisions(policy, trigger, by_trigger[trigger], today, summary)


invoice_reminder_settle = _once(_invoice_settle)
estimate_reminder_settle = _once(_estimate_settle)


def _local_moment(policy: ReminderPolicy, as_of: dt.datetime | dt.date) -> dt.datetime:
    """The moment of the agency's day the pass runs at: `as_of` in its timezone, or for a
    date (`--as-of DATE`), that date at the policy's sending hour."""
    zone = ZoneInfo(policy.agency.timezone)
    if isinstance(as_of, dt.datetime):
        return as_of.astimezone(zone)
    return dt.datetime.combine(as_of, dt.time(policy.send_hour), tzinfo=zone)


def reminders_run(
    *,
    as_of: dt.datetime | dt.date,
    agency: Agency | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Send every reminder due at `as_of` once. A dry run decides and lists, writing nothing.

    `as_of` is a moment, or a date meaning that day in each agency's timezone once its
    sending hour has come (the command's `--as-of DATE`)."""
    summary = RunSummary(dry_run=dry_run)
    if not dry_run:
        reminder_policies_ensure(agency=agency)
    policies = ReminderPolicy.objects.filter(enabled=True).select_related("agency")
    if agency is not None:
        policies = policies.filter(agency=agency)
    for policy in policies.prefetch_related("steps").order_by("agency_id", "pk"):
        local_now = _local_moment(policy, as_of)
        if not policy_sends_at(policy, local_now):
            continue
        today = local_now.date()
        summary.policies += 1
        if progress:
            progress(f"{policy.agency.name}: {policy.name} ({today:%Y-%m-%d})")
        for decision in _policy_decisions(policy, today, summary):
            if dry_run:
                summary.outcomes[decision.expected_skip or "would_send"] += 1
                summary.planned.append(
                    f"{decision.document} {decision.reference}: {decision.step}"
                    + (f" (skip: {decision.expected_skip})" if decision.expected_skip else "")
                )
                continue
            settle = (
                invoice_reminder_settle
                if decision.document == "invoice"
                else estimate_reminder_settle
            )
            outcome = settle(decision=decision, as_of=local_now)
            if outcome:
                summary.outcomes[outcome] += 1
                summary.outcomes[SkipReason.SUPERSEDED] += len(decision.superseded)
        if not dry_run:
            ReminderPolicy.objects.filter(pk=policy.pk).update(swept_through=today)
        if progress:
            progress(f"  {summary.documents_checked} document(s) checked so far")
    return summary


def reminders_send_due(*, as_of: dt.datetime) -> dict[str, int]:
    """The sweep the runner calls: `reminders_run` for every agency."""
    return reminders_run(as_of=as_of).as_counts()
