"""The SQLite engine (clientledger.core.sqlite): Django's backend, each statement's
placeholders converted once per statement text."""

from __future__ import annotations

import pytest
from django.db import connection

from clientledger.core.sqlite import base

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite engine"),
]


def test_placeholders_become_question_marks_and_a_doubled_percent_one_percent() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s || '%%s' || %s", ["a", "b"])
        assert cursor.fetchone() == ("a%sb",)


def test_a_statement_run_again_is_converted_once() -> None:
    base._qmark_kept.cache_clear()
    with connection.cursor() as cursor:
        for value in range(3):
            cursor.execute("SELECT %s + 1", [value])
    assert base._qmark_kept.cache_info().misses == 1
    assert base._qmark_kept.cache_info().hits == 2


def test_a_long_statement_is_converted_without_being_kept() -> None:
    base._qmark_kept.cache_clear()
    padding = " " * base.KEPT_STATEMENT_CHARS
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s{padding}", [7])
        assert cursor.fetchone() == (7,)
    assert base._qmark_kept.cache_info().currsize == 0


def test_named_placeholders_still_work() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %(first)s || %(second)s", {"first": "a", "second": "b"})
        assert cursor.fetchone() == ("ab",)
