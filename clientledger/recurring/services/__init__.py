"""Writers of recurring schedules: `schedules` (create from lines or a deal, edit, lines) and
`lifecycle` (pause, resume, end); `common` holds the lock, the input rules and the cursor."""

from clientledger.recurring.services.lifecycle import schedule_end, schedule_pause, schedule_resume
from clientledger.recurring.services.schedules import (
    ScheduleFields,
    ScheduleOptions,
    schedule_create,
    schedule_create_from_deal,
    schedule_lines_replace,
    schedule_update,
    schedule_update_preview,
)

__all__ = [
    "ScheduleFields",
    "ScheduleOptions",
    "schedule_create",
    "schedule_create_from_deal",
    "schedule_end",
    "schedule_lines_replace",
    "schedule_pause",
    "schedule_resume",
    "schedule_update",
    "schedule_update_preview",
]
