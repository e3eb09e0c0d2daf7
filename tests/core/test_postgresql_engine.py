"""The PostgreSQL engine (clientledger.core.postgresql): Django's backend, timestamps read
through psycopg's own loader with the tzinfo Django's loader gives."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings

from clientledger.core.postgresql import base

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL engine"),
]


def _one(statement: str) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        row = cursor.fetchone()
    assert row is not None
    return row


def test_timestamps_are_read_by_the_engines_loader() -> None:
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
    assert loader is not None and issubclass(loader, base.TimestamptzLoader)


def test_a_timestamp_comes_back_as_the_same_instant_in_utc_with_django_s_tzinfo() -> None:
    (moment,) = _one("SELECT '2024-03-01 12:00:00.123456+05:30'::timestamptz")
    assert moment == dt.datetime(2024, 3, 1, 6, 30, 0, 123456, tzinfo=dt.UTC)
    assert isinstance(moment, dt.datetime) and moment.tzinfo is connection.timezone


def test_null_and_the_first_and_last_representable_instants_read_back() -> None:
    row = _one(
        "SELECT NULL::timestamptz, '0001-01-01 00:00:00+00'::timestamptz,"
        " '9999-12-31 23:59:59.999999+00'::timestamptz"
    )
    assert row == (
        None,
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    )


def test_model_timestamps_round_trip_through_the_orm() -> None:
    from clientledger.accounts.models import Agency

    agency = Agency.objects.create(name="Round trip")
    stored = Agency.objects.values_list("created_at", flat=True).get(pk=agency.pk)
    assert stored == agency.created_at and stored.tzinfo is connection.timezone


@override_settings(USE_TZ=False)
def test_without_time_zone_support_timestamps_are_naive_as_django_gives_them() -> None:
    (moment,) = _one("SELECT '2024-03-01 12:00:00+00'::timestamptz")
    assert moment == dt.datetime(2024, 3, 1, 12, 0)
