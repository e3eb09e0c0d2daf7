"""ORM expressions shared by selectors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import F, Func, IntegerField, QuerySet, Subquery


def count_subquery(rows: QuerySet[Any]) -> Subquery:
    """How many `rows` there are (filter them on `OuterRef`), as a correlated subquery.

    Unlike `Count` over a join, it makes no GROUP BY over the outer table: the database counts
    only for the rows it returns (a page, after its LIMIT). A COUNT without GROUP BY always
    answers one row, so a row with nothing to count reads 0, not NULL.
    """
    return Subquery(
        rows.order_by()
        .annotate(count=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("count"),
        output_field=IntegerField(),
    )


def id_chunks(rows: QuerySet[Any], *, size: int) -> Iterator[list[int]]:
    """The primary keys of `rows` in ascending order, `size` at a time.

    Each chunk is its own keyset query (`pk > last`), so rows changed or performed between two
    chunks neither shift the next one nor come back in it, and memory stays flat.
    """
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]
