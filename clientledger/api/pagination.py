"""Keyset pagination of list endpoints: the page parameters, the page shape and `paginate`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from ninja import Schema
from pydantic import BaseModel, Field

from clientledger.core.pagination import InvalidCursor, keyset_page

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

R = TypeVar("R")  # a row of the query: a model instance or a `values()` dict
T = TypeVar("T")
S = TypeVar("S", bound=BaseModel)


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    after: str | None = Field(None, max_length=2000, description="`next_cursor` of a page.")
    before: str | None = Field(None, max_length=2000, description="`previous_cursor` of a page.")


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None


def paginate(
    rows: models.QuerySet[Any, R],
    *,
    ordering: tuple[str, ...],
    params: PageParams,
    item: type[S],
    render: Callable[[list[R]], list[S]],
) -> Page[S]:
    """One keyset page of `rows`; `render` turns the page's rows into `item`s.

    Each item was validated when `render` built it: the page is assembled without
    validating them again, and, being the operation's `Page[item]`, is only serialised by
    django-ninja (a dict would be validated item by item a second time)."""
    if params.after and params.before:
        raise ValidationError({"before": "Send either after or before, not both."})
    field = "before" if params.before else "after"
    try:
        page = keyset_page(
            rows,
            ordering=ordering,
            after=params.after,
            before=params.before,
            per_page=params.limit,
        )
    except InvalidCursor:
        raise ValidationError({field: "This is not a valid page cursor."}) from None
    items = render(page.items)
    wrong = next((value for value in items if type(value) is not item), None)
    if wrong is not None:
        raise TypeError(f"render() made a {type(wrong).__name__}, not a {item.__name__}")
    return Page[item].model_construct(  # type: ignore[valid-type]
        items=items, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor
    )
