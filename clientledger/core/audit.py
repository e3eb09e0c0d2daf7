"""Audit trail: every service that writes appends an AuditEvent in its own transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.fields.files import FieldFile

from clientledger.core import clock
from clientledger.core.models import AuditEvent

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
    verb: str,
    subject: models.Model,
    client_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        agency=agency,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        subject_type=subject._meta.label_lower,
        subject_id=subject.pk,
        subject_repr=str(subject)[:255],
        client_id=client_id,
        data=_jsonable(data or {}),
        at=clock.now(),
    )


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
