"""Reads of the email outbox for the sweeps that deliver it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from clientledger.core.outbox import due_chunks
from clientledger.notifications.models import EmailMessage


def emails_due_chunks(*, as_of: dt.datetime, size: int) -> Iterator[list[int]]:
    """The ids of the messages due at `as_of`, `size` at a time, across every agency: the
    outbox is delivered for the whole installation, each message by `email_send`."""
    return due_chunks(EmailMessage, as_of=as_of, size=size)
