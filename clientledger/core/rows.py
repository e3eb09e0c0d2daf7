"""One-row statements of the hot write paths (recording a payment, issuing an invoice):
rows locked, one row inserted, some fields of one row updated, each by SQL built once per
model and connection.

The ORM compiles every statement anew, and on these paths that costs more Python time than
the database spends running them (DESIGN.md section 9: within 2x of the same transaction in
raw SQL). What they skip of `save()`: signals and `save()` overrides, which the models
written here do not have."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.transaction import TransactionManagementError

from clientledger.core.bulk import (
    ColumnPreparer,
    _column,
    _concrete,
    _row_preparer,
    _value_preparer,
    column_preparers,
    columns_named_and_defaulted,
    rows_add,
    values_prepared,
)
from clientledger.core.cursors import statement_cursor, statement_database

M = TypeVar("M", bound=models.Model)


def row_new(model: type[M], **given: Any) -> M:
    """The unsaved row `model(**given)` makes: `given` by field name (a related row, cached
    as assigning it caches it, its id taken again when the row is inserted) or attribute
    name (`client_id`), every other field its default. Made as `from_db` makes rows, its
    attributes set directly (through `model(*values)` when something listens to the model's
    init signals): the keyword constructor's field-by-field lookups cost the hot write paths
    and the batches more than their rows' inserts."""
    fields, attnames, by_name = _row_layout(model)
    values: dict[str, Any] = {}
    related: list[tuple[models.Field[Any, Any], models.Model | None]] = []
    for name, value in given.items():
        field = by_name.get(name)
        if field is None:
            raise TypeError(f"{model.__name__} has no field {name!r}")
        if field.is_relation and name == field.name:
            values[field.attname] = None if value is None else value.pk
            related.append((field, value))
        else:
            values[name] = value
    row = [
        values[name] if name in values else field.get_default()
        for field, name in zip(fields, attnames, strict=True)
    ]
    instance = model(*row) if _init_listened(model) else _filled(model, attnames, row)
    for field, value in related:
        _attacher(field)(instance, value)
    return instance


@functools.lru_cache(maxsize=64)
def _row_layout(
    model: type[models.Model],
) -> tuple[list[models.Field[Any, Any]], list[str], dict[str, models.Field[Any, Any]]]:
    """A model's concrete fields in order, their attribute names, and the fields by field
    and attribute name."""
    fields = list(model._meta.concrete_fields)
    by_name = {field.attname: field for field in fields} | {field.name: field for field in fields}
    return fields, [field.attname for field in fields], by_name


def _filled(model: type[M], attnames: Sequence[str], values: Sequence[Any]) -> M:
    """A `model` instance holding `values` as its attributes, set directly, and a new state
    (a row not yet saved)."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=False))
    instance._state = ModelState()
    return instance


def row_insert(instance: models.Model) -> None:
    """Insert one new row as `save(force_insert=True)` writes it (every field's `pre_save` and
    `get_db_prep_save`, related objects' ids taken; `pk` and `_state` set after)."""
    database = statement_database()
    sql, pk, values_of, _ = _insert_statement(_new_row(instance), database)
    with statement_cursor(database) as cursor:
        cursor.execute(sql, values_of(instance))
        _inserted(instance, pk, cursor.fetchone()[0])


def row_write(model: type[models.Model], columns: Sequence[str], values: Sequence[Any]) -> None:
    """Insert one new row of `model` from the values of `columns` (attribute names:
    `client_id`, not `client`), as `core.bulk.rows_write` writes each of its rows, without a
    model instance or its id read back: for the rows nothing reads in the transaction that
    writes them (the audit trail's). The fields not named take their default."""
    database = statement_database()
    statement = _write_statement(model, tuple(columns), database)
    with statement_cursor(database) as cursor:
        cursor.execute(statement.sql, statement.params(values))


class _WriteStatement(NamedTuple):
    sql: str
    named: list[ColumnPreparer]
    # Each defaulted column's stored default, or, where it varies, a `_Varying`.
    defaulted: list[Any]

    def params(self, values: Sequence[Any]) -> list[Any]:
        """The named columns' `values` and the defaulted ones' defaults, as stored."""
        params = values_prepared(values, self.named)
        params += [
            default[0](default[1]()) if type(default) is _Varying else default
            for default in self.defaulted
        ]
        return params


class _Varying(NamedTuple):
    """A default made anew for each row (a moment, a new dict): its preparer and maker."""

    to_db: Callable[[Any], Any]
    make: Callable[[], Any]


@functools.lru_cache(maxsize=32)
def _write_statement(
    model: type[models.Model], columns: tuple[str, ...], database: BaseDatabaseWrapper
) -> _WriteStatement:
    meta = model._meta
    named, defaulted = columns_named_and_defaulted(model, columns)
    fields = [*named, *defaulted]
    quote = database.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(_column(f)) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return _WriteStatement(sql, *_write_preparers(named, defaulted, database))


def _write_preparers(
    named: list[models.Field[Any, Any]],
    defaulted: list[models.Field[Any, Any]],
    database: BaseDatabaseWrapper,
) -> tuple[list[ColumnPreparer], list[Any]]:
    """A writer from values' preparers: each named column's, each defaulted one's default,
    stored once where it is a constant."""
    defaults: list[Any] = []
    for field in defaulted:
        to_db = _value_preparer(field, database)
        if field.has_default() and callable(field.default):
            defaults.append(_Varying(to_db, field.get_default))
        else:
            defaults.append(to_db(field.get_default()))
    return column_preparers(named, database), defaults


def rows_insert_together(instances: Sequence[models.Model]) -> None:
    """Insert a few new rows of one model (a document's lines) in one statement, each as
    `row_insert` writes it; their ids, in order, from its RETURNING, as `bulk_create` takes
    them on both databases. The statement is kept per row count; rows beyond what one
    statement may bind (SQLite's parameter limit) go in further statements."""
    if not instances:
        return
    model = _new_row(instances[0])
    for instance in instances[1:]:
        if type(instance) is not model:
            raise ValueError(f"rows_insert_together() takes rows of one model: {instance!r}")
        _new_row(instance)
    database = statement_database()
    _, pk, values_of, width = _insert_statement(model, database)
    limit = database.features.max_query_params
    per_statement = len(instances) if limit is None else max(1, limit // width)
    with statement_cursor(database) as cursor:
        for start in range(0, len(instances), per_statement):
            chunk = instances[start : start + per_statement]
            sql = _insert_statement(model, database, len(chunk))[0]
            cursor.execute(sql, [value for row in chunk for value in values_of(row)])
            for instance, (new_id,) in zip(chunk, cursor.fetchall(), strict=True):
                _inserted(instance, pk, new_id)


def row_write_where_added(
    model: type[models.Model],
    columns: Sequence[str],
    values: Sequence[Any],
    *,
    row: models.Model,
    field: str,
    amount: int,
    bound: int,
) -> bool:
    """Add `amount` to the integer `field` of the saved `row` if the sum stays within
    -`bound`..`bound` (as `core.bulk.rows_add`), and only then insert a row of `model` from
    `values` (as `row_write`); answer whether it did. PostgreSQL: one statement (the UPDATE
    in a WITH, the INSERT selecting from the row it moved), a round trip less; SQLite: the
    two."""
    database = statement_database()
    if database.vendor != "postgresql":
        if not rows_add(type(row), field, {row.pk: amount}, bound=bound):
            return False
        row_write(model, columns, values)
        return True
    statement = _write_where_added_statement(model, tuple(columns), type(row), field, database)
    with statement_cursor(database) as cursor:
        cursor.execute(
            statement.sql, [amount, row.pk, amount, -bound, bound, *statement.params(values)]
        )
        return bool(cursor.rowcount)


def _new_row(instance: models.Model) -> type[models.Model]:
    model = type(instance)
    if instance.pk is not None:
        raise ValueError(f"row_insert() takes a new {model.__name__} row only: {instance!r}")
    # What `save()` runs: a related object saved after it was assigned gives its id.
    instance._prepare_related_fields_for_save(operation_name="row_insert")  # type: ignore[attr-defined]
    return model


def _inserted(instance: models.Model, pk: models.Field[Any, Any], new_id: int) -> None:
    setattr(instance, pk.attname, new_id)
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS


@functools.lru_cache(maxsize=64)
def _insert_statement(
    model: type[models.Model], database: BaseDatabaseWrapper, rows: int = 1
) -> tuple[str, models.Field[Any, Any], Callable[[models.Model], list[Any]], int]:
    """The INSERT of `rows` rows, the primary key, how one row's values are read off an
    instance and how many there are."""
    meta = model._meta
    pk = _concrete(meta.pk)
    fields, values_of = _row_preparer(
        [field for field in meta.concrete_fields if field is not pk and not field.generated],
        database,
    )
    quote = database.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    # RETURNING on both databases (SQLite since 3.35).
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(_column(f)) for f in fields)})"
        f" VALUES {', '.join([row] * rows)} RETURNING {quote(_column(pk))}"
    )
    return sql, pk, values_of, len(fields)


@functools.lru_cache(maxsize=16)
def _write_where_added_statement(
    model: type[models.Model],
    columns: tuple[str, ...],
    moved_model: type[models.Model],
    field_name: str,
    database: BaseDatabaseWrapper,
) -> _WriteStatement:
    named, defaulted = columns_named_and_defaulted(model, columns)
    fields = [*named, *defaulted]
    quote = database.ops.quote_name
    moved = quote(moved_model._meta.db_table)
    name = quote(_column(_concrete(moved_model._meta.get_field(field_name))))
    column = f"{moved}.{name}"
    moved_pk = f"{moved}.{quote(_column(_concrete(moved_model._meta.pk)))}"
    # Typed values: a SELECT list does not take its types from the columns it fills.
    typed = ", ".join(f"CAST(%s AS {field.db_type(database)})" for field in fields)
    sql = (
        f"WITH moved AS (UPDATE {moved} SET {name} = {column}"
        " + CAST(%s AS bigint)"
        f" WHERE {moved_pk} = %s AND {column} + CAST(%s AS bigint) BETWEEN %s AND %s"
        f" RETURNING {moved_pk})"
        f" INSERT INTO {quote(model._meta.db_table)}"
        f" ({', '.join(quote(_column(f)) for f in fields)}) SELECT {typed} FROM moved"
    )
    return _WriteStatement(sql, *_write_preparers(named, defaulted, database))


def row_update(instance: models.Model, fields: Sequence[str]) -> None:
    """Save `fields` of a saved row, as `save(update_fields=fields)` does (fields' `pre_save`
    runs: an `auto_now` date is stamped)."""
    database = statement_database()
    sql, values_of = _update_statement(type(instance), tuple(fields), database)
    with statement_cursor(database) as cursor:
        cursor.execute(sql, [*values_of(instance), instance.pk])


@functools.lru_cache(maxsize=64)
def _update_statement(
    model: type[models.Model], names: tuple[str, ...], database: BaseDatabaseWrapper
) -> tuple[str, Callable[[models.Model], list[Any]]]:
    meta = model._meta
    fields, values_of = _row_preparer(
        [_concrete(meta.get_field(name)) for name in names], database, adding=False
    )
    quote = database.ops.quote_name
    assignments = ", ".join(f"{quote(_column(field))} = %s" for field in fields)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments}"
        f" WHERE {quote(_column(_concrete(meta.pk)))} = %s"
    )
    return sql, values_of


def rows_lock(
    model: type[M],
    *,
    ids: Sequence[int] | None = None,
    equal: Sequence[tuple[str, Any]] = (),
    related: Sequence[str] = (),
    fields: Sequence[str] | None = None,
) -> list[M]:
    """The rows of `model` among `ids` (all when None) whose fields `equal` the values given,
    locked for update (on PostgreSQL only their own rows, not the `related` ones), in id
    order: two writers locking overlapping rows never wait for each other in a circle.

    `related`: foreign keys whose rows are read by the same statement and attached, as
    `select_related` does. `fields`: the only fields read of `model`'s rows (with the id),
    the others deferred as `only()` defers them, for a writer that reads nothing else (a
    deferred field read later costs a query). An empty `ids` answers no rows without a
    statement."""
    if not statement_database().in_atomic_block:
        raise TransactionManagementError("rows_lock() locks until the transaction ends: in one")
    return _rows(model, ids, equal, related, order_by=None, fields=fields)


def rows_read(
    model: type[M],
    *,
    equal: Sequence[tuple[str, Any]],
    related: Sequence[str] = (),
    order_by: Sequence[str],
) -> list[M]:
    """The rows of `model` whose fields `equal` the values given, in the order of `order_by`
    (field names, ascending), `related` rows attached (None where a nullable key is empty),
    as a queryset reads them: for a hot path's reads (issuing's lines with their taxes)."""
    return _rows(model, None, equal, related, order_by=tuple(order_by))


def rows_values(
    model: type[models.Model],
    *,
    columns: Sequence[str],
    equal: Sequence[tuple[str, Any]],
    order_by: Sequence[str],
) -> list[tuple[Any, ...]]:
    """The `columns` of the rows of `model` whose fields `equal` the values given, in the
    order of `order_by` (field names, ascending), as `values_list(*columns)` answers them:
    each a field's name or, through one foreign key, `key__field` (joined LEFT OUTER: None
    where the key is empty), converted as a queryset converts it. For a hot path's reads
    that need values rather than rows (issuing's pricing inputs, the billing contact's name)."""
    database = statement_database()
    statement = _values_statement(
        model, tuple(columns), tuple(name for name, _ in equal), tuple(order_by), database
    )
    params = [to_db(value) for to_db, (_, value) in zip(statement.preparers, equal, strict=True)]
    with statement_cursor(database) as cursor:
        cursor.execute(statement.sql, params)
        rows = cursor.fetchall()
    if not statement.converted:
        return rows
    return [tuple(_converted(row, statement.converted, database)) for row in rows]


# Each column of a read that needs converting: its position, converters and expression.
_Conversions = list[tuple[int, tuple[Callable[..., Any], ...], Any]]


def _converted(
    row: Sequence[Any], conversions: _Conversions, database: BaseDatabaseWrapper
) -> list[Any]:
    """A read row's values as a queryset converts them from the database."""
    values = list(row)
    for position, converters, column in conversions:
        value = values[position]
        for convert in converters:
            value = convert(value, column, database)
        values[position] = value
    return values


class _ValuesStatement(NamedTuple):
    sql: str
    preparers: list[Callable[[Any], Any]]
    converted: _Conversions


@functools.lru_cache(maxsize=32)
def _values_statement(
    model: type[models.Model],
    columns: tuple[str, ...],
    equal: tuple[str, ...],
    order_by: tuple[str, ...],
    database: BaseDatabaseWrapper,
) -> _ValuesStatement:
    meta = model._meta
    quote = database.ops.quote_name
    table = quote(meta.db_table)
    joins: dict[str, str] = {}  # key name: its alias
    join_sql: list[str] = []
    selected: list[tuple[str, models.Field[Any, Any]]] = []  # (alias, field)
    for name in columns:
        key_name, _, target_name = name.rpartition("__")
        if not key_name:
            selected.append((table, _concrete(meta.get_field(name))))
            continue
        key = _concrete(meta.get_field(key_name))
        if key_name not in joins:
            joins[key_name] = f"v{len(joins) + 1}"
            join_sql.append(_join(table, key, joins[key_name], quote, outer=True))
        target = _related_model(key)
        selected.append((joins[key_name], _concrete(target._meta.get_field(target_name))))
    where = " AND ".join(f"{_column_sql(table, meta, name, quote)} = %s" for name in equal)
    order = ", ".join(_column_sql(table, meta, name, quote) for name in order_by)
    sql = (
        f"SELECT {', '.join(f'{alias}.{quote(_column(field))}' for alias, field in selected)}"
        f" FROM {table}{''.join(join_sql)} WHERE {where or 'TRUE'} ORDER BY {order}"
    )
    return _ValuesStatement(
        sql, _equal_preparers(meta, equal, database), _conversions(selected, database)
    )


def _column_sql(table: str, meta: Any, name: str, quote: Callable[[str], str]) -> str:
    """The column of the field `name` of `table` (its quoted name or alias), in SQL."""
    return f"{table}.{quote(_column(_concrete(meta.get_field(name))))}"


def _equal_preparers(
    meta: Any, equal: Sequence[str], database: BaseDatabaseWrapper
) -> list[Callable[[Any], Any]]:
    """The preparers of the values the fields named in `equal` are compared to."""
    return [_value_preparer(_concrete(meta.get_field(name)), database) for name in equal]


def _related_model(key: models.Field[Any, Any]) -> type[models.Model]:
    target = key.related_model
    assert isinstance(target, type) and issubclass(target, models.Model)
    return target


def _join(
    table: str, key: models.Field[Any, Any], alias: str, quote: Callable[[str], str], *, outer: bool
) -> str:
    """The JOIN of the row `key` (of `table`) points to, as `alias`."""
    target = _related_model(key)
    target_pk = quote(_column(_concrete(target._meta.pk)))
    return (
        f" {'LEFT OUTER' if outer else 'INNER'} JOIN {quote(target._meta.db_table)} {alias}"
        f" ON {alias}.{target_pk} = {table}.{quote(_column(key))}"
    )


def _conversions(
    selected: Sequence[tuple[str, models.Field[Any, Any]]], database: BaseDatabaseWrapper
) -> _Conversions:
    """The columns of a read (each field with its table's alias) a queryset would convert
    from the database, each with its converters (most columns need none: not visited)."""
    conversions: _Conversions = []
    for position, (alias, field) in enumerate(selected):
        column = field.get_col(alias)
        converters = (
            *database.ops.get_db_converters(column),
            *field.get_db_converters(database),
        )
        if converters:
            conversions.append((position, converters, column))
    return conversions


def _rows(
    model: type[M],
    ids: Sequence[int] | None,
    equal: Sequence[tuple[str, Any]],
    related: Sequence[str],
    *,
    order_by: tuple[str, ...] | None,
    fields: Sequence[str] | None = None,
) -> list[M]:
    if ids is not None and not ids:
        return []
    database = statement_database()
    names = tuple(name for name, _ in equal)
    statement = _lock_statement(
        model,
        names,
        None if ids is None else len(ids),
        tuple(related),
        order_by,
        None if fields is None else tuple(fields),
        database,
    )
    params = [to_db(value) for to_db, (_, value) in zip(statement.preparers, equal, strict=True)]
    with statement_cursor(database) as cursor:
        cursor.execute(statement.sql, [*params, *(ids or ())])
        rows = cursor.fetchall()
    return [statement.instance(row, database) for row in rows]


class _LockStatement:
    """A read's SQL (a lock's when `order_by` is None: in id order, for update), its
    parameters' preparers, and how each row it answers becomes instances (every column
    converted from the database as a queryset converts it)."""

    def __init__(
        self,
        model: type[models.Model],
        equal: tuple[str, ...],
        id_count: int | None,
        related: tuple[str, ...],
        order_by: tuple[str, ...] | None,
        fields: tuple[str, ...] | None,
        database: BaseDatabaseWrapper,
    ) -> None:
        meta = model._meta
        quote = database.ops.quote_name
        table = quote(meta.db_table)
        self.preparers = _equal_preparers(meta, equal, database)
        own = list(meta.concrete_fields)
        if fields is not None:
            read = {_concrete(meta.pk), *(_concrete(meta.get_field(name)) for name in fields)}
            own = [field for field in own if field in read]
        # Each model read: its fields, and how it is attached to the first (by a foreign key).
        self.parts: list[
            tuple[type[models.Model], list[models.Field[Any, Any]], _Attach | None]
        ] = [(model, own, None)]
        joins = []
        for position, name in enumerate(related, start=1):
            key = _concrete(meta.get_field(name))
            if key.null and order_by is None:
                raise ValueError(f"rows_lock() joins required foreign keys only, not {key}")
            joins.append(_join(table, key, f"r{position}", quote, outer=key.null))
            target = _related_model(key)
            self.parts.append((target, list(target._meta.concrete_fields), _attacher(key)))
        aliases = [table] + [f"r{position}" for position in range(1, len(related) + 1)]
        columns = ", ".join(
            f"{alias}.{quote(_column(field))}"
            for alias, (_, fields, _) in zip(aliases, self.parts, strict=True)
            for field in fields
        )
        where = [f"{_column_sql(table, meta, name, quote)} = %s" for name in equal]
        pk = f"{table}.{quote(_column(_concrete(meta.pk)))}"
        if id_count is not None:
            where.append(f"{pk} IN ({', '.join(['%s'] * id_count)})")
        lock = ""
        if order_by is None and database.features.has_select_for_update_of:
            lock = f" FOR UPDATE OF {table}"
        order = (
            pk
            if order_by is None
            else ", ".join(_column_sql(table, meta, name, quote) for name in order_by)
        )
        self.sql = (
            f"SELECT {columns} FROM {table}{''.join(joins)}"
            f" WHERE {' AND '.join(where) or 'TRUE'} ORDER BY {order}{lock}"
        )
        self.converted = _conversions(
            [
                (alias, field)
                for alias, (_, fields, _) in zip(aliases, self.parts, strict=True)
                for field in fields
            ],
            database,
        )
        self.attnames = [[field.attname for field in fields] for _, fields, _ in self.parts]

    def instance(self, row: Sequence[Any], database: BaseDatabaseWrapper) -> Any:
        values = _converted(row, self.converted, database)
        start = 0
        first: models.Model | None = None
        for (model, _, attach), attnames in zip(self.parts, self.attnames, strict=True):
            own = values[start : start + len(attnames)]
            start += len(attnames)
            # A nullable key left empty: its joined columns are all NULL.
            instance = (
                None
                if first is not None and own[0] is None
                else _row_instance(model, attnames, own, database.alias)
            )
            if first is None:
                first = instance
            else:
                assert attach is not None
                attach(first, instance)
        return first


_Attach = Callable[[models.Model, models.Model | None], None]


def _attacher(key: models.Field[Any, Any]) -> _Attach:
    """How a row read through `key` is attached to the row it belongs to: a many-to-one's
    cached, as assigning it caches it once the key's column holds its id (the join's), without
    the descriptor's checks of an assignment; others assigned."""
    if type(key) is models.ForeignKey:
        return key.set_cached_value

    def assign(row: models.Model, related: models.Model | None) -> None:
        setattr(row, key.name, related)

    return assign


def _row_instance(
    model: type[models.Model], attnames: list[str], values: list[Any], alias: str
) -> models.Model:
    """The instance `model.from_db(alias, attnames, values)` makes of a row, its attributes
    set directly: `__init__` sets each through its field's descriptor, and a foreign key's
    checks a cache that a new instance has not got, which costs more than the row's read on
    the hot paths. Through `from_db` when a field is deferred or something listens to the
    model's init signals."""
    if len(attnames) != len(model._meta.concrete_fields) or _init_listened(model):
        return model.from_db(alias, attnames, values)
    instance = _filled(model, attnames, values)
    instance._state.adding = False
    instance._state.db = alias
    return instance


def _init_listened(model: type[models.Model]) -> bool:
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


@functools.lru_cache(maxsize=64)
def _lock_statement(
    model: type[models.Model],
    equal: tuple[str, ...],
    id_count: int | None,
    related: tuple[str, ...],
    order_by: tuple[str, ...] | None,
    fields: tuple[str, ...] | None,
    database: BaseDatabaseWrapper,
) -> _LockStatement:
    return _LockStatement(model, equal, id_count, related, order_by, fields, database)
