"""Idempotent sweeps the runner (embedded thread or Celery beat) calls with `as_of`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from clientledger.notifications.services import emails_send_due


def drain_outbox(*, as_of: dt.datetime) -> dict[str, int]:
    return emails_send_due(as_of=as_of)


SWEEPS: dict[str, Callable[..., dict[str, int]]] = {"drain_outbox": drain_outbox}
