"""A schedule's lifecycle: active <-> paused, active or paused -> ended (for good)."""

from __future__ import annotations

from clientledger.core.states import TransitionTable, transition_check
from clientledger.recurring.models import ScheduleStatus

SCHEDULE_TRANSITIONS: TransitionTable = {
    ScheduleStatus.ACTIVE: frozenset({ScheduleStatus.PAUSED, ScheduleStatus.ENDED}),
    ScheduleStatus.PAUSED: frozenset({ScheduleStatus.ACTIVE, ScheduleStatus.ENDED}),
    ScheduleStatus.ENDED: frozenset(),
}


def schedule_transition_check(current: str, target: str) -> None:
    transition_check(SCHEDULE_TRANSITIONS, "schedule", current, target)
