"""Pausing, resuming and ending a schedule, each checked against `states.py`."""

from __future__ import annotations

from django.db import transaction

from clientledger.accounts.models import User
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.audit_verbs import AuditVerb
from clientledger.recurring.audit_verbs import ScheduleVerb
from clientledger.recurring.calculations import first_period_on_or_after, schedule_timing
from clientledger.recurring.models import RecurringSchedule, ScheduleStatus
from clientledger.recurring.services.common import cursor_set, schedule_lock
from clientledger.recurring.states import schedule_transition_check


def _move(
    schedule: RecurringSchedule,
    *,
    actor: User | None,
    target: ScheduleStatus,
    verb: AuditVerb,
    reason: str = "",
) -> RecurringSchedule:
    with transaction.atomic():
        locked = schedule_lock(schedule)
        schedule_transition_check(locked.status, target)
        data: dict[str, object] = {"from": locked.status, "to": target}
        now = clock.now()
        if target == ScheduleStatus.PAUSED:
            locked.paused_at = now
        elif target == ScheduleStatus.ACTIVE:
            # No catch-up for the periods slept through: billing resumes with the first period
            # starting today or later, on the schedule's own billing day.
            skipped_from = locked.next_period_index
            locked.next_period_index = first_period_on_or_after(
                schedule_timing(locked),
                first_index=locked.next_period_index,
                today=clock.agency_today(locked.agency),
            )
            locked.paused_at = None
            data["periods_skipped"] = locked.next_period_index - skipped_from
        else:
            locked.ended_at = now
            if reason:
                data["reason"] = reason
        locked.status = target
        cursor_set(locked)
        locked.updated_at = now
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=verb,
            subject=locked,
            client_id=locked.client_id,
            data=data,
        )
    return locked


def schedule_pause(*, schedule: RecurringSchedule, actor: User | None) -> RecurringSchedule:
    """Stop billing until resumed; the periods that start meanwhile are not billed."""
    return _move(schedule, actor=actor, target=ScheduleStatus.PAUSED, verb=ScheduleVerb.PAUSED)


def schedule_resume(*, schedule: RecurringSchedule, actor: User | None) -> RecurringSchedule:
    """Bill again from the first period starting today (the agency's date) or later."""
    return _move(schedule, actor=actor, target=ScheduleStatus.ACTIVE, verb=ScheduleVerb.RESUMED)


def schedule_end(
    *, schedule: RecurringSchedule, actor: User | None, reason: str = ""
) -> RecurringSchedule:
    """End the schedule for good: no period is billed after this, the invoices made stay."""
    return _move(
        schedule, actor=actor, target=ScheduleStatus.ENDED, verb=ScheduleVerb.ENDED, reason=reason
    )
