"""One cursor for the statements of a hot write path (recording a payment, issuing an
invoice), as a hand-written transaction runs its statements on one.

Django makes and closes a cursor for every statement that asks for one: a few microseconds
each, a tenth of what the hot paths' one-row statements cost in Python on SQLite (DESIGN.md
section 9 measures them against a raw-SQL transaction on one cursor). A service opens
`cursor_shared()` around its transaction's statements; the statement helpers (`core.rows`,
`core.bulk`, the rollups, the counter) take `statement_cursor()`, which is that cursor inside
the block and a cursor of their own outside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

_shared: ContextVar[Any] = ContextVar("shared_cursor", default=None)


@contextmanager
def cursor_shared() -> Iterator[None]:
    """The statement helpers' statements in the block share one cursor, closed at its end
    (a block inside another shares the outer one's)."""
    if _shared.get() is not None:
        yield
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        token = _shared.set(cursor)
        try:
            yield
        finally:
            _shared.reset(token)


def statement_database() -> BaseDatabaseWrapper:
    """The default database, as the statement helpers run their statements on it: inside
    `cursor_shared()` the shared cursor's (no lookup of the thread's connection, a few per
    statement otherwise)."""
    shared = _shared.get()
    return shared.db if shared is not None else connections[DEFAULT_DB_ALIAS]


def statement_cursor(database: BaseDatabaseWrapper) -> AbstractContextManager[Any]:
    """A cursor of `database` for one statement: the shared one inside `cursor_shared()`."""
    shared = _shared.get()
    if shared is not None and shared.db.alias == database.alias:
        return nullcontext(shared)
    return database.cursor()
