"""Django's SQLite backend, with each statement's placeholders converted once per statement
text instead of at every execution.

Django writes `%s` placeholders and its SQLite cursor turns them into `?` with a regular
expression on every `execute`, scanning the whole statement: 30 µs for the 69 columns of an
invoice read with its client and agency, more than SQLite takes to answer it. The hot paths
run the same statements again and again (`core/rows.py` keeps their text), as the ORM's
compiled queries repeat theirs, so the conversion is kept per text, as psycopg keeps its
own on PostgreSQL. Only statements up to `KEPT_STATEMENT_CHARS` are kept: a batch writer's
multi-row insert is long, converted once for its many rows anyway, and would fill memory."""

from __future__ import annotations

import functools
from typing import Any

from django.db.backends.sqlite3 import base

KEPT_STATEMENT_CHARS = 8_192


@functools.lru_cache(maxsize=1024)
def _qmark_kept(query: str) -> str:
    return _qmark(query)


def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        return _qmark_kept(query) if len(query) <= KEPT_STATEMENT_CHARS else _qmark(query)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=SQLiteCursorWrapper)
