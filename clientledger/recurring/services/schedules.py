"""Creating and editing recurring schedules: from lines, or from a won deal's recurring lines.

Edits apply to the periods not billed yet: invoices already made keep their lines and
amounts, and a change of frequency or anchor starts a new timing at the first unbilled period
(`RecurringSchedule.anchor_period_index`), so the periods billed keep their dates.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.selectors import deal_lines_data
from clientledger.core import clock
from clientledger.core.audit import audit_record, model_changes, snapshot
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.lines.choices import Recurrence
from clientledger.lines.data import LineData
from clientledger.recurring.audit_verbs import ScheduleVerb
from clientledger.recurring.calculations import (
    RECURRENCE_FREQUENCIES,
    Frequency,
    Timing,
    period_at,
)
from clientledger.recurring.models import (
    RecurringPeriod,
    RecurringSchedule,
    RecurringScheduleLine,
)
from clientledger.recurring.services.common import (
    buyer_check,
    cursor_set,
    end_fields_normalize,
    not_ended_require,
    recipients_clean,
    schedule_lines_check,
    schedule_lock,
    timing_check,
)

# What `schedule_update` may change; the client and currency never change.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "deal",
        "interval_unit",
        "interval_count",
        "start_date",
        "end_kind",
        "end_date",
        "end_after_count",
        "on_period",
        "payment_terms_days",
        "notes",
        "terms",
        "recipients",
    }
)
# The fields that decide the periods' dates: changing one re-anchors the schedule.
TIMING_FIELDS = frozenset({"interval_unit", "interval_count", "start_date"})


class ScheduleOptions(TypedDict, total=False):
    """What a new schedule may be given besides its client, deal, name, lines and start."""

    currency: str | None
    interval_unit: str
    interval_count: int
    end_kind: str
    end_date: dt.date | None
    end_after_count: int | None
    on_period: str
    payment_terms_days: int | None
    notes: str
    terms: str
    recipients: Sequence[str]


class ScheduleFields(ScheduleOptions, total=False):
    deal: Deal | None


def _lines_write(schedule: RecurringSchedule, lines: list[LineData]) -> None:
    schedule.lines.all().delete()
    RecurringScheduleLine.objects.bulk_create(
        RecurringScheduleLine(
            agency=schedule.agency, schedule=schedule, position=position, **data.fields()
        )
        for position, data in enumerate(lines)
    )


def schedule_create(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    name: str,
    lines: list[LineData],
    start_date: dt.date,
    **fields: Unpack[ScheduleFields],
) -> RecurringSchedule:
    """An active schedule billing `lines` every period from `start_date` (the anchor). A start
    in the past is caught up by the next billing run, one invoice per period."""
    deal = fields.pop("deal", None)
    buyer_check(agency=agency, client=client, deal=deal, currency=fields.pop("currency", None))
    recipients = recipients_clean(fields.pop("recipients", ()))
    schedule = RecurringSchedule(
        agency=agency,
        client=client,
        deal=deal,
        currency=client.currency,
        name=name.strip(),
        start_date=start_date,
        recipients=recipients,
        created_by=actor,
        **fields,
    )
    end_fields_normalize(schedule)
    timing_check(schedule)
    schedule_lines_check(
        agency=agency, client=client, lines=lines, existing=deal.lines.all() if deal else []
    )
    cursor_set(schedule)
    schedule.full_clean()
    with transaction.atomic():
        schedule.save(force_insert=True)
        _lines_write(schedule, lines)
        audit_record(
            agency=agency,
            actor=actor,
            verb=ScheduleVerb.CREATED,
            subject=schedule,
            client_id=client.pk,
            data={"deal": deal.pk if deal else None, "lines": len(lines)},
        )
    return schedule


def deal_recurring_lines(deal: Deal, recurrence: str | None) -> tuple[str, list[LineData]]:
    """The recurrence a schedule from `deal` bills at and the deal's lines of that recurrence;
    with no recurrence named, the deal's recurring lines must share one."""
    recurring = [data for data in deal_lines_data(deal) if data.recurrence != Recurrence.ONE_OFF]
    if not recurring:
        raise ValidationError(
            {
                "deal": "This deal has no recurring lines: mark a line monthly, quarterly or "
                "yearly first."
            }
        )
    found = sorted({data.recurrence for data in recurring})
    if recurrence is None:
        if len(found) > 1:
            labels = " and ".join(Recurrence(value).label.lower() for value in found)
            raise ValidationError(
                {"recurrence": f"This deal's recurring lines are billed {labels}: choose one."}
            )
        recurrence = found[0]
    if recurrence not in RECURRENCE_FREQUENCIES:
        raise ValidationError({"recurrence": "Choose monthly, quarterly or yearly."})
    chosen = [data for data in recurring if data.recurrence == recurrence]
    if not chosen:
        raise ValidationError(
            {"recurrence": f"This deal has no {Recurrence(recurrence).label.lower()} lines."}
        )
    return recurrence, chosen


def schedule_create_from_deal(
    *,
    deal: Deal,
    actor: User | None,
    start_date: dt.date,
    recurrence: str | None = None,
    name: str | None = None,
    **fields: Unpack[ScheduleOptions],
) -> RecurringSchedule:
    """A schedule for a won deal's recurring lines of one recurrence (the deal's only one by
    default), billed at that frequency, named after the deal unless `name` is given."""
    if deal.stage != DealStage.WON:
        raise ValidationError({"deal": "Set up a retainer once the deal is won."})
    recurrence, lines = deal_recurring_lines(deal, recurrence)
    frequency = RECURRENCE_FREQUENCIES[recurrence]
    fields.setdefault("interval_unit", frequency.unit)
    fields.setdefault("interval_count", frequency.count)
    return schedule_create(
        agency=deal.agency,
        actor=actor,
        client=deal.client,
        name=name if name is not None else deal.title,
        lines=lines,
        start_date=start_date,
        deal=deal,
        **fields,
    )


def _re_anchor(locked: RecurringSchedule, before: dict[str, Any], data: dict[str, Any]) -> None:
    """Start the new timing at the first period not passed yet (billed, or skipped while
    paused): on its start under the old timing unless a new start date is given, which must
    come after the last period billed."""
    start_changed = "start_date" in data and data["start_date"] != before["start_date"]
    last_billed = RecurringPeriod.objects.filter(schedule=locked).order_by("-period_index").first()
    if start_changed and last_billed is not None and locked.start_date <= last_billed.end_date:
        raise ValidationError(
            {
                "start_date": f"Periods up to {last_billed.end_date:%d %b %Y} are billed "
                "already: start the new timing after that day."
            }
        )
    if locked.next_period_index == locked.anchor_period_index:
        return
    if not start_changed:
        old = Timing(
            anchor=before["start_date"],
            frequency=Frequency(before["interval_unit"], before["interval_count"]),
            anchor_index=locked.anchor_period_index,
        )
        following = period_at(old, locked.next_period_index)
        assert following is not None  # a timing without an end has every period
        locked.start_date = following.start
    locked.anchor_period_index = locked.next_period_index


def _changes_apply(schedule: RecurringSchedule, data: dict[str, Any]) -> dict[str, Any]:
    """Apply `data` to the schedule in memory by every rule of an edit (re-anchoring when the
    timing changes, the cursor) and return the changes; nothing is saved."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    not_ended_require(schedule)
    if "recipients" in data:
        data["recipients"] = recipients_clean(data["recipients"])
    if "name" in data:
        data["name"] = str(data["name"]).strip()
    buyer_check(
        agency=schedule.agency, client=schedule.client, deal=data.get("deal"), currency=None
    )
    before = snapshot(schedule, sorted(EDITABLE_FIELDS))
    for name, value in data.items():
        setattr(schedule, name, value)
    end_fields_normalize(schedule)
    if any(getattr(schedule, name) != before[name] for name in TIMING_FIELDS):
        _re_anchor(schedule, before, data)
    timing_check(schedule)
    changes = model_changes(schedule, before)
    if changes:
        cursor_set(schedule)
        schedule.full_clean()
    return changes


def schedule_update_preview(*, schedule: RecurringSchedule, **data: Any) -> RecurringSchedule:
    """The schedule as `schedule_update` would leave it, unsaved: what the edit page
    previews before the change is confirmed (refused the same way)."""
    changed = copy.copy(schedule)
    _changes_apply(changed, data)
    return changed


def schedule_update(
    *, schedule: RecurringSchedule, actor: User | None, **data: Any
) -> RecurringSchedule:
    """Change a schedule's details for the periods not billed yet, audited field by field."""
    with transaction.atomic():
        locked = schedule_lock(schedule)
        changes = _changes_apply(locked, data)
        if not changes:
            return locked
        locked.updated_at = clock.now()
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=ScheduleVerb.UPDATED,
            subject=locked,
            client_id=locked.client_id,
            data={"changes": changes},
        )
    return locked


def schedule_lines_replace(
    *, schedule: RecurringSchedule, actor: User | None, lines: list[LineData]
) -> RecurringSchedule:
    """Replace every line of a schedule from its next period on: all valid, or nothing changes."""
    with transaction.atomic():
        locked = schedule_lock(schedule)
        not_ended_require(locked)
        schedule_lines_check(
            agency=locked.agency, client=locked.client, lines=lines, existing=locked.lines.all()
        )
        _lines_write(locked, lines)
        locked.updated_at = clock.now()
        locked.save(update_fields=["updated_at"])
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=ScheduleVerb.LINES_SAVED,
            subject=locked,
            client_id=locked.client_id,
            data={"lines": len(lines)},
        )
    return locked
