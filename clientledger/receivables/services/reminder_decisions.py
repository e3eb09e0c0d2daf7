"""Which reminder step of which document is due, decided a batch at a time in a fixed
number of queries (the sweep's reads, before anything is sent)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Q, QuerySet

from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.receivables.conditions import (
    follows_policy_condition,
    invoice_disputed_condition,
    invoice_paused_condition,
    invoice_payment_pending_condition,
)
from clientledger.receivables.models import (
    Reminder,
    ReminderPolicy,
    ReminderStep,
    ReminderTrigger,
    SkipReason,
)

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


def policy_decisions(
    policy: ReminderPolicy, today: dt.date, summary: RunSummary
) -> Iterator[Decision]:
    """The policy's decisions for `today`: invoices' steps, then estimates'."""
    steps = [step for step in policy.steps.all() if step.enabled]
    by_trigger = {
        trigger: [step for step in steps if step.trigger == trigger] for trigger in ReminderTrigger
    }
    yield from _invoice_decisions(policy, by_trigger[ReminderTrigger.INVOICE_DUE], today, summary)
    for trigger in (ReminderTrigger.ESTIMATE_SENT, ReminderTrigger.ESTIMATE_EXPIRY):
        yield from _estimate_decisions(policy, trigger, by_trigger[trigger], today, summary)
