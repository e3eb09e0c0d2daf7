"""Keyset pagination of list endpoints: the page parameters, the page shape and `paginate`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from ninja import Schema
from pydantic import Field

from clientledger.core.pagination import InvalidCursor, keyset_page

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    after: str | None = Field(None, max_length=2000, description="`next_cursor` of a page.")
    before: str | None = Field(None, max_length=2000, description="`previous_cursor` of a page.")


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None


def paginate(
    rows: models.QuerySet[M],
    *,
    ordering: tuple[str, ...],
    params: PageParams,
    render: Callable[[list[M]], list[Any]],
) -> dict[str, Any]:
    """One keyset page of `rows`; `render` turns the page's rows into response items."""
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
    return {
        "items": render(page.items),
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }
