"""Claim/retry helpers for outbox tables: rows are claimed atomically, then performed."""

from __future__ import annotations

import datetime as dt

from django.db import models, transaction

MAX_ATTEMPTS = 8
# A claim older than this belongs to a worker that died; the row is claimed again.
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, capped at 6 hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim_due(model: type[models.Model], *, as_of: dt.datetime, batch: int = 50) -> list[int]:
    """Claim up to `batch` due rows (status queued, or sending with a stale claim).

    The conditional UPDATE makes the claim exclusive on SQLite and PostgreSQL alike: two
    workers racing for one row see exactly one update succeed.
    """
    due = model.objects.filter(  # type: ignore[attr-defined]
        models.Q(status="queued")
        | models.Q(status="sending", claimed_at__lt=as_of - CLAIM_TIMEOUT),
        next_attempt_at__lte=as_of,
    ).order_by("next_attempt_at", "id")
    candidates = list(due.values_list("id", "status", "claimed_at")[:batch])
    claimed: list[int] = []
    for pk, status, claimed_at in candidates:
        with transaction.atomic():
            won = model.objects.filter(  # type: ignore[attr-defined]
                pk=pk, status=status, claimed_at=claimed_at
            ).update(status="sending", claimed_at=as_of)
        if won:
            claimed.append(pk)
    return claimed
