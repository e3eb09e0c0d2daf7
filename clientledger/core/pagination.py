"""Keyset pagination: constant cost on any page (no deep OFFSET), cursors in the URL."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db import models
from django.db.models import Q

# A page holds model instances, or plain rows (`values()`: dicts).
R = TypeVar("R")


class InvalidCursor(ValueError):
    pass


def _signer(ordering: tuple[str, ...]) -> signing.Signer:
    # Cursors are signed per ordering: a forged or foreign one is refused before its values
    # reach a query, where a value of the wrong type would fail inside the database.
    return signing.Signer(salt="keyset:" + ",".join(ordering))


def _encode(values: list[Any], ordering: tuple[str, ...]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for v in values]
    packed = base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")
    return _signer(ordering).sign(packed)


def _decode(cursor: str, ordering: tuple[str, ...]) -> list[Any]:
    try:
        packed = _signer(ordering).unsign(cursor)
        values = json.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursor("cursor: is not a valid page cursor") from exc
    if not isinstance(values, list) or len(values) != len(ordering):
        raise InvalidCursor("cursor: is not a valid page cursor")
    return values


@dataclass
class Page(Generic[R]):
    items: list[R]
    next_cursor: str | None
    previous_cursor: str | None
    per_page: int

    def __iter__(self) -> Iterator[R]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _after(ordering: tuple[str, ...], values: list[Any], *, backwards: bool) -> Q:
    """Rows strictly after `values` in `ordering` (or before, walking backwards)."""
    condition = Q()
    for depth in range(len(ordering) - 1, -1, -1):
        name = ordering[depth].lstrip("-")
        descending = ordering[depth].startswith("-") != backwards
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[depth]})
        equal = Q(
            **{
                name: value
                for name, value in zip(
                    (o.lstrip("-") for o in ordering[:depth]), values[:depth], strict=True
                )
            }
        )
        condition = step & equal if depth == len(ordering) - 1 else condition | (step & equal)
    return condition


def keyset_page(
    queryset: models.QuerySet[Any, R],
    *,
    ordering: tuple[str, ...],
    after: str | None = None,
    before: str | None = None,
    per_page: int = 25,
) -> Page[R]:
    """One page of `queryset` ordered by `ordering`, whose last field must be unique (id)."""
    names = [field.lstrip("-") for field in ordering]
    backwards = before is not None and after is None
    cursor = before if backwards else after
    reversed_ordering = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in ordering)
    rows = queryset.order_by(*(reversed_ordering if backwards else ordering))
    if cursor:
        rows = rows.filter(_after(ordering, _decode(cursor, ordering), backwards=backwards))
    items = list(rows[: per_page + 1])
    has_more = len(items) > per_page
    items = items[:per_page]
    if backwards:
        items.reverse()

    def key(item: R) -> str:
        if isinstance(item, dict):
            return _encode([item[name] for name in names], ordering)
        return _encode([getattr(item, name) for name in names], ordering)

    more_after = (has_more and not backwards) or (backwards and bool(cursor))
    more_before = (has_more and backwards) or (not backwards and bool(cursor))
    return Page(
        items=items,
        next_cursor=key(items[-1]) if items and more_after else None,
        previous_cursor=key(items[0]) if items and more_before else None,
        per_page=per_page,
    )


def keyset_page_or_first(
    queryset: models.QuerySet[Any, R],
    *,
    ordering: tuple[str, ...],
    after: str | None = None,
    before: str | None = None,
) -> Page[R]:
    """`keyset_page`, except that a tampered or stale cursor gives the first page."""
    try:
        return keyset_page(queryset, ordering=ordering, after=after, before=before)
    except InvalidCursor:
        return keyset_page(queryset, ordering=ordering)
