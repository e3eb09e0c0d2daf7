"""The one place the application asks for the time, so tests and sweeps can pass `as_of`."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def local_today(tz_name: str, *, as_of: dt.datetime | None = None) -> dt.date:
    """Today's date in an agency's timezone (billing dates are local, not UTC)."""
    moment = as_of or now()
    return moment.astimezone(ZoneInfo(tz_name)).date()


class HasTimezone(Protocol):
    timezone: str


def agency_today(agency: HasTimezone, *, as_of: dt.datetime | None = None) -> dt.date:
    """Due dates and validity are calendar dates of the agency, not of the server."""
    return local_today(agency.timezone, as_of=as_of)
