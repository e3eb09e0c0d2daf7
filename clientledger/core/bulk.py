"""Multi-row writes for batch writers, beyond what the ORM's `bulk_update` does fast."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

BATCH_SIZE = 500


def rows_update(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Save `fields` of many rows of one model, each with its own values, in one UPDATE per
    batch joined to a VALUES list: `bulk_update` builds a CASE per field and row, which costs
    more Python time than the database spends (PostgreSQL, and SQLite 3.33 and later)."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    model_fields = [_concrete(meta.get_field(name)) for name in fields]
    pk = _concrete(meta.pk)
    columns = [pk, *model_fields]
    # PostgreSQL types a VALUES list from its text parameters only when told.
    casts = [
        f"CAST(%s AS {field.db_type(connection)})" if connection.vendor == "postgresql" else "%s"
        for field in columns
    ]
    row_sql = f"({', '.join(casts)})"
    assignments = ", ".join(
        f"{connection.ops.quote_name(_column(field))} = v.column{position}"
        for position, field in enumerate(model_fields, start=2)
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objects), BATCH_SIZE):
            batch = objects[start : start + BATCH_SIZE]
            params: list[Any] = []
            for instance in batch:
                params.extend(
                    field.get_db_prep_save(getattr(instance, field.attname), connection)
                    for field in columns
                )
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES "
                f"{', '.join([row_sql] * len(batch))}) AS v "
                f"WHERE {table}.{connection.ops.quote_name(_column(pk))} = v.column1",
                params,
            )


def _concrete(field: object) -> models.Field[Any, Any]:
    """A field stored in a column of the model's table."""
    if not isinstance(field, models.Field):
        raise ValueError(f"{field} is not stored in a column")
    _column(field)
    return field


def _column(field: models.Field[Any, Any]) -> str:
    if not field.column:
        raise ValueError(f"{field} is not stored in a column")
    return field.column
