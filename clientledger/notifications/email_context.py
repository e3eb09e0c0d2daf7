"""What a queued email renders from, stored as JSON in its outbox row and read back when the
worker delivers it: rows as references (read again then, so the email shows their state at
delivery), money as Decimal, dates and moments as themselves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models

# The keys that tag a value JSON has no type for.
_MODEL = "$model"
_DECIMAL = "$decimal"
_DATE = "$date"
_DATETIME = "$datetime"


def model_reference(instance: models.Model) -> dict[str, Any]:
    """How a row is stored in a context: its model's label and its id (batch writers that
    build the context themselves use it for rows that already have one)."""
    if instance.pk is None:
        raise ValueError(f"an email can refer only to a saved row, not {instance!r}")
    return {_MODEL: instance._meta.label_lower, "pk": instance.pk}


def context_encode(value: Any) -> Any:
    """`value` as JSON; refuses (TypeError) what it could not read back."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return model_reference(value)
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    # A datetime is a date: it is tested first.
    if isinstance(value, dt.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, list | tuple):
        return [context_encode(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: context_encode(item) for key, item in value.items()}
    raise TypeError(f"an email's context cannot hold {type(value).__name__}: {value!r}")


def context_decode(value: Any) -> Any:
    """What `context_encode` stored, with each referred row read again (DoesNotExist when it
    was deleted since: the email then fails as undeliverable)."""
    if isinstance(value, list):
        return [context_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if _MODEL in value:
        model = apps.get_model(value[_MODEL])
        return model._default_manager.get(pk=value["pk"])
    if _DECIMAL in value:
        return Decimal(value[_DECIMAL])
    if _DATETIME in value:
        return dt.datetime.fromisoformat(value[_DATETIME])
    if _DATE in value:
        return dt.date.fromisoformat(value[_DATE])
    return {key: context_decode(item) for key, item in value.items()}
