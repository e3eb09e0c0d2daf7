"""Multi-row writes for batch writers, beyond what the ORM's `bulk_create` and `bulk_update`
do fast (the hot paths' one-row statements are core/rows.py)."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations

from clientledger.core.cursors import statement_cursor, statement_database

BATCH_SIZE = 500
# Ids reserved per round trip on PostgreSQL, rows per COPY statement.
COPY_BATCH_SIZE = 5_000
# Fields whose database value is the Python value itself when it is of exactly this type:
# any other value goes through the field's own `get_db_prep_save`, as `bulk_create` does.
_PLAIN_TYPES: dict[str, type] = {
    "AutoField": int,
    "BigAutoField": int,
    "SmallAutoField": int,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
    "BooleanField": bool,
    "CharField": str,
    "TextField": str,
    "EmailField": str,
    "SlugField": str,
    "URLField": str,
}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch builds and writes its rows, back
    on after (as it was). A batch keeps tens of thousands of new objects alive at once: each
    allocation threshold they pass makes the collector scan every object of the process,
    most of the batch's time, to find garbage that reference counting frees anyway. Memory
    stays bounded by the batch, whose size the caller fixes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def rows_insert(objects: Sequence[models.Model]) -> None:
    """Insert new rows of one model, each as `bulk_create` would write it (every field's
    `pre_save` and `get_db_prep_save`, related objects' ids taken, `pk` and `_state` set
    after), without its per-value SQL compilation, which costs more Python time than the
    database spends writing. PostgreSQL: ids reserved from the table's sequence in one
    query, rows sent with COPY. SQLite: multi-row INSERT ... RETURNING id."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    pk = _concrete(meta.pk)
    fields = [field for field in meta.concrete_fields if field is not pk and not field.generated]
    for instance in objects:
        if type(instance) is not model or instance.pk is not None:
            raise ValueError(f"rows_insert() takes new {model.__name__} rows only: {instance!r}")
        # What `bulk_create` runs: a related object saved after it was assigned gives its id.
        instance._prepare_related_fields_for_save(operation_name="rows_insert")  # type: ignore[attr-defined]
    # The connection itself: each value's preparation reads its `ops`, through the proxy else.
    database = connections[connection.alias]
    readers = [_reader(field, adding=True) for field in fields]
    convert = [_insert_preparer(field, database) for field in fields]
    values = [[read(instance) for read in readers] for instance in objects]
    ids = _insert(meta, pk, fields, _columns_prepared(fields, convert, values))
    for instance, new_id in zip(objects, ids, strict=True):
        setattr(instance, pk.attname, new_id)
        instance._state.adding = False
        instance._state.db = connection.alias


def rows_write(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert new rows of `model` given as tuples of values of `columns` (attribute names:
    `client_id`, not `client`), as `rows_insert` would, without a model instance per row:
    batch writers that make tens of thousands of rows spend more time building instances
    than writing them. The fields not named take their default, evaluated once for the
    whole call (one moment for `created_at`). The database gives the ids (none is reserved
    or read back: the writers of rows nothing points to need none), so SQLite runs one
    single-row INSERT for every row (executemany) instead of multi-row ones."""
    if not rows:
        return
    meta = model._meta
    pk = _concrete(meta.pk)
    named, defaulted = columns_named_and_defaulted(model, columns)
    database = connections[connection.alias]
    convert = [_insert_preparer(field, database) for field in named]
    defaults = [field.get_db_prep_save(field.get_default(), database) for field in defaulted]
    prepared = _columns_prepared(named, convert, rows)
    if defaults:
        prepared = [(*row, *defaults) for row in prepared]
    _insert(meta, pk, [*named, *defaulted], prepared, returning=False)


def _columns_prepared(
    fields: Sequence[models.Field[Any, Any]],
    convert: Sequence[Callable[[Any], Any]],
    rows: Sequence[Sequence[Any]],
) -> list[tuple[Any, ...]]:
    """The rows' values as the database takes them, column by column: a column whose values
    `_value_preparer` would all return as they are (`_kept_whole`) is kept whole; the others
    are converted value by value. A batch's ids, texts and amounts are most of its values,
    and a call per value costs more than the database spends writing it."""
    database = connections[connection.alias]
    columns: list[Sequence[Any]] = []
    for field, to_db, values in zip(fields, convert, zip(*rows, strict=True), strict=True):
        if _kept_whole(field, database, values):
            columns.append(values)
        else:
            columns.append([to_db(value) for value in values])
    return list(zip(*columns, strict=True))


def _kept_whole(
    field: models.Field[Any, Any], database: BaseDatabaseWrapper, values: Sequence[Any]
) -> bool:
    """Whether `_value_preparer` returns each of the values as it is, told by their few
    types: the field's plain type, None where the column takes nulls, any text in a text
    column (a choice is a text: `CharField.to_python` keeps it), and finite decimals where
    the backend keeps those (`_as_is_check`)."""
    types = set(map(type, values))
    if types == {Decimal} and _as_is_check(_kind(field), database) is not None:
        return all(map(Decimal.is_finite, values))
    if field.null:
        types.discard(type(None))
    plain = _plain_type(field)
    if plain is str:
        return all(issubclass(kind, str) for kind in types)
    return types <= {plain}


def columns_named_and_defaulted(
    model: type[models.Model], columns: Sequence[str]
) -> tuple[list[models.Field[Any, Any]], list[models.Field[Any, Any]]]:
    """The fields of the `columns` (attribute names) a writer from values is given, and the
    others, which take their default; refused (ValueError) when one of those stamps itself
    on save (auto_now): without an instance no `pre_save` stamps it."""
    meta = model._meta
    pk = _concrete(meta.pk)
    by_attname = {field.attname: field for field in meta.concrete_fields}
    named = [_concrete(by_attname[name]) for name in columns]
    defaulted = [
        field
        for field in meta.concrete_fields
        if field is not pk and not field.generated and field.attname not in columns
    ]
    if any(
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        for field in defaulted
    ):
        raise ValueError(f"Writing {meta.label} from values needs its self-stamped dates")
    return named, defaulted


def _insert(
    meta: Any,
    pk: models.Field[Any, Any],
    fields: list[models.Field[Any, Any]],
    rows: list[Any],
    *,
    returning: bool = True,
) -> list[int]:
    """Insert the rows; with `returning`, their new ids, in order (else none)."""
    if connection.vendor == "postgresql":
        return _postgresql_copy(meta, pk, fields, rows, returning=returning)
    return _returning_insert(meta, pk, fields, rows, returning=returning)


def _value_preparer(
    field: models.Field[Any, Any], database: BaseDatabaseWrapper
) -> Callable[[Any], Any]:
    """How one field's value becomes its database value, the cheapest correct way."""
    plain = _plain_type(field)
    as_is = _as_is_check(_kind(field), database)

    def prepare(value: Any) -> Any:
        if (value is None and field.null) or (plain is not None and type(value) is plain):
            return value
        if as_is is not None and as_is(value):
            return value
        if hasattr(value, "resolve_expression"):
            raise ValueError(f"bulk writes take values, not expressions: {field} = {value}")
        return field.get_db_prep_save(value, database)

    return prepare


def _kind(field: models.Field[Any, Any]) -> str:
    """The field's internal type; a foreign key's is its target's."""
    if isinstance(field, models.ForeignKey):
        return field.target_field.get_internal_type()
    return field.get_internal_type()


def _plain_type(field: models.Field[Any, Any]) -> type | None:
    """The type whose values are the field's database values as they are (`_PLAIN_TYPES`)."""
    return _PLAIN_TYPES.get(_kind(field))


def _insert_preparer(
    field: models.Field[Any, Any], database: BaseDatabaseWrapper
) -> Callable[[Any], Any]:
    """`_value_preparer` for the values of one insert call; a JSON value as its text (what
    the base backend's `adapt_json_value` gives, which PostgreSQL's COPY reads into jsonb),
    serialized once per object: a batch's rows share their snapshots (lines priced alike
    share their tax snapshot), and serializing each row's again costs more than the write."""
    if not isinstance(field, models.JSONField):
        return _moment_memo(field, database, _value_preparer(field, database))
    # The object is kept with its text: while the call lasts, no other object takes its id.
    texts: dict[int, tuple[Any, str]] = {}

    def prepare(value: Any) -> Any:
        if value is None and field.null:
            return None
        known = texts.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        if hasattr(value, "resolve_expression"):
            raise ValueError(f"bulk writes take values, not expressions: {field} = {value}")
        text = json.dumps(field.get_prep_value(value), cls=field.encoder)
        texts[id(value)] = (value, text)
        return text

    return prepare


def _moment_memo(
    field: models.Field[Any, Any], database: BaseDatabaseWrapper, prepare: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """`prepare` remembering, for the values of one write call, what each date or moment
    became where the backend converts them (SQLite: a text, through the time zone): a batch's
    rows repeat a few (one moment for every row a chunk stamps, a few periods' dates), and
    converting each row's again costs more than writing it. Equal values convert alike:
    equal moments are one instant, written in the connection's time zone."""
    memo_type = {"DateField": dt.date, "DateTimeField": dt.datetime}.get(field.get_internal_type())
    if memo_type is None or _as_is_check(field.get_internal_type(), database) is not None:
        return prepare
    converted: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        if type(value) is not memo_type:
            return prepare(value)
        known = converted.get(value)
        if known is None:
            known = converted[value] = prepare(value)
        return known

    return remembered


def _as_is_check(kind: str, database: BaseDatabaseWrapper) -> Callable[[Any], bool] | None:
    """Which values of a field of this kind `get_db_prep_save` would return unchanged on
    this database (checked by type, cheaper than running it): finite decimals where the
    backend keeps them; on PostgreSQL, whose driver adapts them, dates and aware moments."""
    if kind == "DecimalField" and (
        type(database.ops).adapt_decimalfield_value
        is BaseDatabaseOperations.adapt_decimalfield_value
    ):
        return lambda value: type(value) is Decimal and value.is_finite()
    if database.vendor != "postgresql":
        return None
    if kind == "DateField":
        return lambda value: type(value) is dt.date
    if kind == "DateTimeField":
        return lambda value: type(value) is dt.datetime and value.tzinfo is not None
    return None


def _row_preparer(
    fields: Sequence[models.Field[Any, Any]],
    database: BaseDatabaseWrapper,
    *,
    adding: bool = True,
) -> tuple[list[models.Field[Any, Any]], Callable[[models.Model], list[Any]]]:
    """The `fields` in the order their database values are read off an instance, and how they
    are, the cheapest correct way (`adding`: for an insert, else for an update), kept across
    calls (core.rows): the attributes whose `pre_save` only reads them are read at once, then
    the others (a self-stamped date, a file) one by one; a value already of its column's plain
    type (or a null where the column takes one) goes as it is, without a call of its field's
    preparer. They keep none of the values they saw, unlike `_insert_preparer`'s."""
    plain = [f for f in fields if _pre_save_reads_only(f) and not isinstance(f, models.FileField)]
    others = [field for field in fields if field not in plain]
    ordered = [*plain, *others]
    preparers = column_preparers(ordered, database)
    readers = [_reader(field, adding=adding) for field in others]
    # Several names: `attrgetter` answers a tuple of their values; one name: the value.
    getter = operator.attrgetter(*(field.attname for field in plain)) if plain else None
    together = len(plain) > 1

    def prepare(instance: models.Model) -> list[Any]:
        values: Sequence[Any] = ()
        if getter is not None:
            values = getter(instance) if together else (getter(instance),)
        if readers:
            values = [*values, *(read(instance) for read in readers)]
        return values_prepared(values, preparers)

    return ordered, prepare


# A column's plain type (`_PLAIN_TYPES`), whether it takes a null, and its `_value_preparer`.
ColumnPreparer = tuple[type | None, bool, Callable[[Any], Any]]


def column_preparers(
    fields: Sequence[models.Field[Any, Any]], database: BaseDatabaseWrapper
) -> list[ColumnPreparer]:
    """How `values_prepared` prepares the values of each of `fields`."""
    return [(_plain_type(field), field.null, _value_preparer(field, database)) for field in fields]


def values_prepared(values: Sequence[Any], preparers: Sequence[ColumnPreparer]) -> list[Any]:
    """One row's values as the database takes them: a value already of its column's plain
    type (or a null where the column takes one) as it is, without a call of its preparer
    (which would answer it unchanged), the others through it."""
    return [
        value if type(value) is plain or (value is None and null) else to_db(value)
        for value, (plain, null, to_db) in zip(values, preparers, strict=True)
    ]


def _reader(field: models.Field[Any, Any], *, adding: bool) -> Callable[[models.Model], Any]:
    """How the value to save of one field is read off an instance (`pre_save`), the
    cheapest correct way."""
    attname = field.attname
    if isinstance(field, models.FileField):

        def read_file(instance: models.Model) -> Any:
            # A name not yet read is no file to store first: reading it through the field
            # would wrap it in a FieldFile pointing back at the instance, a reference cycle
            # per row left to the cyclic collector.
            name = instance.__dict__.get(attname)
            return name if type(name) is str else field.pre_save(instance, adding)

        return read_file
    if _pre_save_reads_only(field):
        return operator.attrgetter(attname)
    return lambda instance: field.pre_save(instance, adding)


def _pre_save_reads_only(field: models.Field[Any, Any]) -> bool:
    """Whether the field's `pre_save` only reads the attribute (`Field.pre_save`), or may set
    it, so that it must run: a date stamped on save (auto_now), a file stored first."""
    pre_save = type(field).pre_save
    if pre_save in (models.DateField.pre_save, models.DateTimeField.pre_save):
        return not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    return pre_save is models.Field.pre_save


def _postgresql_copy(
    meta: Any,
    pk: models.Field[Any, Any],
    fields: list[models.Field[Any, Any]],
    rows: list[Any],
    *,
    returning: bool,
) -> list[int]:
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    ids: list[int] = []
    with connection.cursor() as cursor:
        if not returning:
            # The id column's default numbers the rows, in the COPY itself.
            columns = ", ".join(quote(_column(field)) for field in fields)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return ids
        columns = ", ".join(quote(_column(field)) for field in (pk, *fields))
        for start in range(0, len(rows), COPY_BATCH_SIZE):
            batch = rows[start : start + COPY_BATCH_SIZE]
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, _column(pk), len(batch)],
            )
            reserved = [row[0] for row in cursor.fetchall()]
            # psycopg's own cursor: Django's has no COPY.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for new_id, row in zip(reserved, batch, strict=True):
                    copy.write_row((new_id, *row))
            ids.extend(reserved)
    return ids


def _returning_insert(
    meta: Any,
    pk: models.Field[Any, Any],
    fields: list[models.Field[Any, Any]],
    rows: list[Any],
    *,
    returning: bool,
) -> list[int]:
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(_column(field)) for field in fields)
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    ids: list[int] = []
    with connection.cursor() as cursor:
        if not returning:
            # One statement prepared once and run for every row in the driver's loop: no
            # SQL text of thousands of placeholders to build and parse per batch.
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {row_sql}", rows)
            return ids
        per_statement = max(1, connection.ops.bulk_batch_size(fields, rows))
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(batch))}"
                + (f" RETURNING {quote(_column(pk))}" if returning else ""),
                [value for row in batch for value in row],
            )
            if returning:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def rows_update(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Save `fields` of many rows of one model, each with its own values (see `values_update`):
    `bulk_update` builds a CASE per field and row, which costs more Python time than the
    database spends (PostgreSQL, and SQLite 3.33 and later)."""
    if not objects:
        return
    model = type(objects[0])
    attnames = [_concrete(model._meta.pk).attname] + [
        _concrete(model._meta.get_field(name)).attname for name in fields
    ]
    values_update(
        model,
        fields,
        [[getattr(instance, attname) for attname in attnames] for instance in objects],
    )


def values_update(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Save `fields` of many rows of `model`, each row given as its id then the fields' values
    in order, for writers that computed the values without loading model instances.
    PostgreSQL: one UPDATE per batch joined to the columns sent as arrays (a statement of five
    parameters, whatever the rows). SQLite: one UPDATE per batch joined to a VALUES list."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk = _concrete(meta.pk)
    columns = [pk, *(_concrete(meta.get_field(name)) for name in fields)]
    database = connections[connection.alias]
    preparers = [
        _moment_memo(field, database, _value_preparer(field, database)) for field in columns
    ]
    assignments = ", ".join(
        f"{quote(_column(field))} = v.column{position}"
        for position, field in enumerate(columns[1:], start=2)
    )
    where = f"WHERE {table}.{quote(_column(pk))} = v.column1"
    per_statement = COPY_BATCH_SIZE if connection.vendor == "postgresql" else BATCH_SIZE
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = [
                [prepare(value) for prepare, value in zip(preparers, row, strict=True)]
                for row in rows[start : start + per_statement]
            ]
            source, params = _joined_rows(columns, batch)
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {source} {where}", params)


def _joined_rows(
    columns: list[models.Field[Any, Any]], batch: list[list[Any]]
) -> tuple[str, list[Any]]:
    """The rows of `batch` as a table `v` (column1, column2...) to join an UPDATE to, and its
    parameters: on PostgreSQL one typed array per column, else a VALUES list."""
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"CAST(%s AS {field.db_type(connection)}[])" for field in columns)
        names = ", ".join(f"column{position}" for position in range(1, len(columns) + 1))
        by_column = [list(values) for values in zip(*batch, strict=True)]
        return f"unnest({arrays}) AS v ({names})", by_column
    row_sql = f"({', '.join(['%s'] * len(columns))})"
    return (
        f"(VALUES {', '.join([row_sql] * len(batch))}) AS v",
        [value for row in batch for value in row],
    )


def rows_add(
    model: type[models.Model], field_name: str, amounts: Mapping[int, int], *, bound: int
) -> set[int]:
    """Add to an integer column of many rows, each row (by id) its own amount, in one UPDATE
    joined to a VALUES list, only where the sum stays within -`bound`..`bound`. Returns the
    ids of the rows moved: the others would have passed the bound."""
    if not amounts:
        return set()
    database = statement_database()
    sql = _rows_add_statement(model, field_name, len(amounts), database)
    with statement_cursor(database) as cursor:
        cursor.execute(sql, [*(value for pair in amounts.items() for value in pair), -bound, bound])
        return {row[0] for row in cursor.fetchall()}


@functools.lru_cache(maxsize=64)
def _rows_add_statement(
    model: type[models.Model], field_name: str, rows: int, database: BaseDatabaseWrapper
) -> str:
    """`rows_add`'s UPDATE for `rows` rows, built once: every money write runs one."""
    meta = model._meta
    quote = database.ops.quote_name
    table = quote(meta.db_table)
    column = quote(_column(_concrete(meta.get_field(field_name))))
    pk = quote(_column(_concrete(meta.pk)))
    cast = "CAST(%s AS bigint)" if database.vendor == "postgresql" else "%s"
    values = ", ".join([f"({cast}, {cast})"] * rows)
    return (
        f"UPDATE {table} SET {column} = {table}.{column} + v.column2 FROM (VALUES {values}) "
        f"AS v WHERE {table}.{pk} = v.column1 "
        f"AND {table}.{column} + v.column2 BETWEEN %s AND %s RETURNING {table}.{pk}"
    )


def rows_accumulate(
    model: type[models.Model],
    *,
    keys: tuple[str, ...],
    amounts: tuple[str, ...],
    rows: Mapping[tuple[Any, ...], Sequence[int]],
    advisory_lock: tuple[int, int] | None = None,
) -> None:
    """Add to integer columns (`amounts`) of the rows found by `keys` (the fields of a unique
    constraint), creating the rows missing: one INSERT ... ON CONFLICT DO UPDATE per batch
    (PostgreSQL, SQLite 3.24 and later). Rows in key order, so two writers adding to the same
    rows wait for each other rather than deadlock.

    `advisory_lock` (PostgreSQL): the transaction-level advisory lock (two keys) each
    statement takes before it writes a row, in the statement itself: no round trip of its own."""
    database = statement_database()
    moved = [(key, values) for key, values in sorted(rows.items()) if any(values)]
    with statement_cursor(database) as cursor:
        for start in range(0, len(moved), BATCH_SIZE):
            batch = moved[start : start + BATCH_SIZE]
            statement = _accumulate_statement(
                model, keys, amounts, len(batch), advisory_lock is not None, database
            )
            params: list[Any] = [] if advisory_lock is None else list(advisory_lock)
            for key, values in batch:
                params.extend(
                    to_db(value) for to_db, value in zip(statement.keys, key, strict=True)
                )
                params.extend(values)
            cursor.execute(statement.sql, params)


class _AccumulateStatement(NamedTuple):
    sql: str
    keys: list[Callable[[Any], Any]]  # how each key's value becomes its database value


@functools.lru_cache(maxsize=64)
def _accumulate_statement(
    model: type[models.Model],
    keys: tuple[str, ...],
    amounts: tuple[str, ...],
    rows: int,
    advisory_lock: bool,
    database: BaseDatabaseWrapper,
) -> _AccumulateStatement:
    """`rows_accumulate`'s upsert of `rows` rows, built once: every money write runs one."""
    meta = model._meta
    quote = database.ops.quote_name
    table = quote(meta.db_table)
    key_fields = [_concrete(meta.get_field(name)) for name in keys]
    amount_columns = [quote(_column(_concrete(meta.get_field(name)))) for name in amounts]
    key_columns = [quote(_column(field)) for field in key_fields]
    row_sql = f"({', '.join(['%s'] * (len(keys) + len(amounts)))})"
    updates = ", ".join(
        f"{column} = {table}.{column} + excluded.{column}" for column in amount_columns
    )
    columns = ", ".join(key_columns + amount_columns)
    conflict = f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    listed = f"VALUES {', '.join([row_sql] * rows)}"
    preparers = [_value_preparer(field, database) for field in key_fields]
    if not advisory_lock:
        return _AccumulateStatement(
            f"INSERT INTO {table} ({columns}) {listed} {conflict}", preparers
        )
    # Each row to write joins the lock's one row: the lock is held before any is written
    # (and before any conflicting row is locked).
    return _AccumulateStatement(
        "WITH advisory_lock AS (SELECT pg_advisory_xact_lock(%s, %s))"
        f" INSERT INTO {table} ({columns}) SELECT v.* FROM advisory_lock,"
        f" ({listed}) AS v ({columns}) {conflict}",
        preparers,
    )


def _concrete(field: object) -> models.Field[Any, Any]:
    """A field stored in a column of the model's table."""
    if not isinstance(field, models.Field):
        raise ValueError(f"{field} is not stored in a column")
    _column(field)
    return field


def _column(field: models.Field[Any, Any]) -> str:
    if not field.column:
        raise ValueError(f"{field} is not stored in a column")
    return field.column
