"""One cursor for a hot path's statements (core/cursors.py)."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.core.cursors import cursor_shared, statement_cursor
from clientledger.core.rows import row_update, rows_lock

pytestmark = pytest.mark.django_db


def test_statements_in_the_block_run_on_one_cursor_closed_at_its_end() -> None:
    with cursor_shared():
        with statement_cursor(connection) as first, statement_cursor(connection) as second:
            assert first is second
        with cursor_shared(), statement_cursor(connection) as nested:
            assert nested is first
    with statement_cursor(connection) as outside:
        assert outside is not first
    with pytest.raises((InterfaceError, ProgrammingError)):
        first.execute("SELECT 1")


def test_outside_a_block_each_statement_has_a_cursor_of_its_own() -> None:
    with statement_cursor(connection) as first, statement_cursor(connection) as second:
        assert first is not second


def test_statements_on_the_shared_cursor_are_captured_and_written(agency: Agency) -> None:
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), cursor_shared():
        [locked] = rows_lock(Agency, ids=[agency.pk])
        locked.name = "Renamed"
        row_update(locked, ["name"])

    verbs = [query["sql"].split()[0] for query in queries.captured_queries]
    assert [verb for verb in verbs if verb in {"SELECT", "UPDATE"}] == ["SELECT", "UPDATE"]
    assert Agency.objects.get(pk=agency.pk).name == "Renamed"
