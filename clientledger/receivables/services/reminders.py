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
from zoneinfo import ZoneInfo

from clientledger.accounts.models import Agency
from clientledger.receivables.models import (
    ReminderPolicy,
    SkipReason,
)
from clientledger.receivables.services.policies import reminder_policies_ensure
from clientledger.receivables.services.reminder_decisions import (
    Progress,
    RunSummary,
    policy_decisions,
    policy_sends_at,
)
from clientledger.receivables.services.reminder_sends import (
    estimate_reminder_settle,
    invoice_reminder_settle,
)


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
        for decision in policy_decisions(policy, today, summary):
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
