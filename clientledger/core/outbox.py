"""Claim/retry helpers for outbox tables: rows are claimed atomically, then performed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import models, transaction

from clientledger.core.query import id_chunks

MAX_ATTEMPTS = 8
# A claim older than this belongs to a worker that died; the row is claimed again.
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, capped at 6 hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def due_condition(as_of: dt.datetime) -> models.Q:
    """A row to perform at `as_of`: queued, or sending with a stale claim, and due."""
    return (
        models.Q(status="queued") | models.Q(status="sending", claimed_at__lt=as_of - CLAIM_TIMEOUT)
    ) & models.Q(next_attempt_at__lte=as_of)


def due_chunks(model: type[models.Model], *, as_of: dt.datetime, size: int) -> Iterator[list[int]]:
    """The ids of every row of `model` due at `as_of`, `size` at a time. Reading claims
    nothing: whoever performs a row claims it first (`claim`)."""
    return id_chunks(model._default_manager.filter(due_condition(as_of)), size=size)


def claim(model: type[models.Model], *, pk: int, as_of: dt.datetime) -> bool:
    """Claim one row if it is still due at `as_of`.

    The conditional UPDATE makes the claim exclusive on SQLite and PostgreSQL alike: two
    workers racing for one row see exactly one update succeed (PostgreSQL evaluates the
    condition again on the row the winner committed; SQLite runs one writer at a time).
    """
    with transaction.atomic():
        won = model._default_manager.filter(due_condition(as_of), pk=pk).update(
            status="sending", claimed_at=as_of
        )
    return won == 1


def claim_due(model: type[models.Model], *, as_of: dt.datetime, batch: int = 50) -> list[int]:
    """Claim up to `batch` due rows, returning the ids this caller won."""
    candidates = next(due_chunks(model, as_of=as_of, size=batch), [])
    return [pk for pk in candidates if claim(model, pk=pk, as_of=as_of)]
