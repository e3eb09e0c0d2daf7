"""What the trail records about recurring schedules."""

from __future__ import annotations

from clientledger.core.audit_verbs import AuditVerb, Phrase


class ScheduleVerb(AuditVerb):
    CREATED = "recurring_schedule.created", Phrase.ACTION_FIRST
    UPDATED = "recurring_schedule.updated", Phrase.ACTION_FIRST
    LINES_SAVED = "recurring_schedule.lines_saved", Phrase.LINES_SAVED
    PAUSED = "recurring_schedule.paused", Phrase.ACTION_FIRST
    RESUMED = "recurring_schedule.resumed", Phrase.ACTION_FIRST
    ENDED = "recurring_schedule.ended", Phrase.ACTION_FIRST
