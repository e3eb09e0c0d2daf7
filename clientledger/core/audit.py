"""Audit trail: every service that writes appends an AuditEvent in its own transaction, and
pages read the trail back as sentences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.fields.files import FieldFile

from clientledger.core import clock
from clientledger.core.audit_verbs import AuditVerb, Party, Phrase, audit_verb
from clientledger.core.bulk import rows_write
from clientledger.core.models import AuditEvent
from clientledger.core.money import format_money
from clientledger.core.rows import row_write

if TYPE_CHECKING:
    from clientledger.accounts.models import Agency, User


def _jsonable(value: Any) -> Any:
    # Money stays exact in the trail: decimals are written as strings, never floats.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def audit_record(
    *,
    agency: Agency,
    actor: User | None,
    verb: AuditVerb,
    subject: models.Model,
    client_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event to the trail in the caller's transaction (written from its values:
    nothing reads it back there, and every write of every service makes one)."""
    row_write(
        AuditEvent,
        AUDIT_COLUMNS,
        audit_row(
            agency_id=agency.pk,
            actor=actor,
            verb=verb,
            subject=subject,
            client_id=client_id,
            data=data,
            at=clock.now(),
        ),
    )


def audit_record_many(
    *,
    agency: Agency,
    actor: User | None,
    verb: AuditVerb,
    subjects: Iterable[tuple[models.Model, int | None]],
) -> None:
    """One event per (subject, client_id) in multi-row writes, for batch writers."""
    at = clock.now()
    audit_rows_write(
        [
            audit_row(
                agency_id=agency.pk,
                actor=actor,
                verb=verb,
                subject=subject,
                client_id=client_id,
                data=None,
                at=at,
            )
            for subject, client_id in subjects
        ]
    )


# The columns of `audit_row`'s values, in order.
AUDIT_COLUMNS = (
    "agency_id",
    "actor_id",
    "verb",
    "subject_type",
    "subject_id",
    "subject_repr",
    "client_id",
    "data",
    "at",
)


def audit_row(
    *,
    agency_id: int,
    actor: User | None,
    verb: AuditVerb,
    subject: models.Model,
    client_id: int | None,
    data: dict[str, Any] | None,
    at: dt.datetime,
) -> tuple[Any, ...]:
    """An event's values (AUDIT_COLUMNS), for batch writers that write tens of thousands
    (`audit_rows_write`)."""
    return (
        agency_id,
        actor.pk if actor is not None and actor.is_authenticated else None,
        verb,
        subject._meta.label_lower,
        subject.pk,
        str(subject)[:255],
        client_id,
        _jsonable(data or {}),
        at,
    )


def audit_rows_write(rows: Sequence[tuple[Any, ...]]) -> None:
    rows_write(AuditEvent, AUDIT_COLUMNS, rows)


def model_changes(instance: models.Model, before: dict[str, Any]) -> dict[str, Any]:
    """The fields of `instance` whose value differs from the `before` snapshot."""
    changes: dict[str, Any] = {}
    for name, old in before.items():
        new = getattr(instance, name)
        if new != old:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
    return changes


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


# --- reading the trail -------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str
    # Relations are stored as ids in the trail; showing "12 → 14" would mean nothing.
    shows_values: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    verb: str
    actor: User | None
    sentence: str
    changes: list[FieldChange]
    # Who acted when no person did: the system, the client in the portal, Stripe.
    party: Party = Party.SYSTEM
    # The name a client typed to sign an approval in the portal.
    signed_by: str = ""

    @property
    def actor_name(self) -> str:
        if self.actor is not None:
            return str(self.actor)
        if self.party is Party.CLIENT and self.signed_by:
            return self.signed_by
        return self.party.value


def timeline_entries(events: Iterable[AuditEvent]) -> list[TimelineEntry]:
    """Audit events (actors selected) as entries a person reads: who did what, what changed."""
    return [_timeline_entry(event, audit_verb(event.verb)) for event in events]


def _timeline_entry(event: AuditEvent, verb: AuditVerb | None) -> TimelineEntry:
    party = verb.party if verb is not None else Party.SYSTEM
    return TimelineEntry(
        at=event.at,
        verb=event.verb,
        actor=event.actor,
        sentence=audit_sentence(event),
        changes=_field_changes(event),
        party=party,
        # Of the client's answers only an approval carries a name: the one the client typed.
        signed_by=str(event.data.get("name") or "") if party is Party.CLIENT else "",
    )


def audit_sentence(event: AuditEvent) -> str:
    """What the actor did, e.g. "moved deal “Redesign” from Lead to Proposal", followed by
    the amount of a money event ("recorded payment “Payment #4”: $500.00")."""
    sentence = _action_sentence(event)
    amount = _event_amount(event)
    return f"{sentence}: {amount}" if amount else sentence


def _event_amount(event: AuditEvent) -> str:
    """The event's amount in its currency: the one recorded with it, else its client's (a
    client is billed and pays in one currency). Timelines select the client with the event."""
    amount = event.data.get("amount")
    if amount in (None, ""):
        return ""
    currency = event.data.get("currency") or (event.client.currency if event.client else "")
    try:
        return format_money(Decimal(str(amount)), currency) if currency else str(amount)
    except (ArithmeticError, ValueError):
        return str(amount)


def _action_sentence(event: AuditEvent) -> str:
    """The sentence the verb's `Phrase` names; a verb no app records any more (an old row)
    reads as its words."""
    verb = audit_verb(event.verb)
    phrase = verb.phrase if verb is not None else Phrase.VERB_WORDS
    model = _subject_model(event.subject_type)
    entity = str(model._meta.verbose_name) if model else event.subject_type.rpartition(".")[2]
    subject = f"{entity} “{event.subject_repr}”"
    if phrase is Phrase.STAGE_MOVE and {"from", "to"} <= event.data.keys():
        stage = _model_field(model, "stage")
        moved = f"moved {subject} from {_display_value(stage, event.data['from'])}"
        moved = f"{moved} to {_display_value(stage, event.data['to'])}"
        if event.data.get("estimate"):
            return f"{moved}: estimate {event.data['estimate']} was approved"
        return moved
    if phrase is Phrase.LINES_SAVED:
        count = event.data.get("lines", 0)
        return f"saved the lines of {subject} ({count} line{'' if count == 1 else 's'})"
    if phrase is Phrase.ACTION_FIRST:
        return f"{event.verb.rpartition('.')[2]} {subject}"
    words = event.verb.replace(".", " ").replace("_", " ")
    return f"{words} “{event.subject_repr}”"


def _subject_model(subject_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(subject_type)
    except (LookupError, ValueError):
        return None


def _field_changes(event: AuditEvent) -> list[FieldChange]:
    changes = event.data.get("changes")
    if not isinstance(changes, dict):
        return []
    model = _subject_model(event.subject_type)
    result = []
    for name, change in changes.items():
        field = _model_field(model, name)
        label = str(field.verbose_name) if field else name.replace("_", " ")
        values = change if isinstance(change, dict) else {}
        result.append(
            FieldChange(
                label=label,
                old=_display_value(field, values.get("from")),
                new=_display_value(field, values.get("to")),
                shows_values=not (field and field.is_relation),
            )
        )
    return result


def _model_field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _display_value(field: models.Field | None, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)
