"""ORM expressions shared by selectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import (
    Aggregate,
    BigIntegerField,
    Count,
    F,
    Func,
    IntegerField,
    Model,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.expressions import RawSQL

M = TypeVar("M", bound=Model)


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


def first_rows_totalled(
    rows: QuerySet[M], limit: int, **totals: Aggregate
) -> tuple[list[M], dict[str, Any]]:
    """The first `limit` of `rows` and, in the same query, `count` and `totals` over all of
    them: each an aggregate over the window of every row the filter keeps, which the
    database computes before the LIMIT. A record page's recent documents and their counts
    cost one query, not two. With no rows `count` is 0 and every other total None."""
    windows = {"count": Count("pk"), **totals}
    first = list(
        rows.annotate(
            **{f"_window_{name}": Window(aggregate) for name, aggregate in windows.items()}
        )[:limit]
    )
    if not first:
        return first, {name: 0 if name == "count" else None for name in windows}
    return first, {name: getattr(first[0], f"_window_{name}") for name in windows}


def ids_in(ids: Sequence[int]) -> Sequence[int] | RawSQL:
    """What `pk__in=` takes for thousands of ids: on PostgreSQL one array parameter, read by
    `IN (SELECT unnest(...))`, which neither Django nor psycopg handle value by value (they
    cost more than the query does); elsewhere the ids themselves."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)], output_field=BigIntegerField())
    return ids


def id_chunks(rows: QuerySet[Any], *, size: int, page: int = 1000) -> Iterator[list[int]]:
    """The primary keys of `rows` in ascending order, `size` at a time.

    Ids are read a page at a time (at least `page`, so chunks of one row do not cost a query
    each), each page its own keyset query (`pk > last`): rows changed or performed meanwhile
    neither shift the next page nor come back in it, and memory stays flat.
    """
    last = 0
    while True:
        ids = list(
            rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[: max(size, page)]
        )
        if not ids:
            return
        for start in range(0, len(ids), size):
            yield ids[start : start + size]
        last = ids[-1]
