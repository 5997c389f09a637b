"""Hot SQL statements: their text built once per process, and on PostgreSQL prepared
on the server (parsed and planned once per connection).

The ORM compiles a queryset into SQL on every call; for the few statements a request
runs thousands of times a second (the start's debit, its read of the model and the
user's usage, its inserts) that compilation costs more than the database's work. A
`Statement` is the SQL text of one of them, built on first use from the models' meta
(quoted table and column names, so a renamed field cannot silently diverge) for the
database's vendor; `ModelInsert` is the INSERT of a new model instance as `save()`
would write it (every concrete field, each prepared by the field).

They run on Django's connection, in the caller's transaction, through Django's cursor
wrapper: the statements are logged, counted by `CaptureQueriesContext` and seen by
execute wrappers like any other. Every value is a parameter.

Prepared statements (PostgreSQL, `DATABASE_PREPARED_STATEMENTS`, on by default): the
cursor is psycopg's server-binding one, which prepares each of these statements on its
connection the first time it runs it and then only sends the statement's name and the
values. Django's own queries keep client-side binding and are never prepared. psycopg
keeps the prepared statements per connection, so a new connection (CONN_MAX_AGE, a
failed health check) prepares them again; a ROLLBACK makes psycopg deallocate them all
(they are prepared again on next use), and PostgreSQL re-plans a prepared statement
by itself when a table it reads changes. Behind a pooler in transaction mode
(PgBouncer before 1.21, or without `max_prepared_statements`) a prepared statement
may not exist on the server connection the next transaction gets: set
`DATABASE_PREPARED_STATEMENTS=false` there, and the same statements run unprepared.
"""

import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model, Value


class Statement:
    """One SQL statement, its text built by `build(connection)` once per vendor.

    With `fields` (the model fields, or free-standing ones, of the columns it returns, in
    order), each row is converted as the ORM converts a queryset's (JSON decoded; on
    SQLite booleans and timestamps too)."""

    def __init__(
        self,
        build: Callable[[BaseDatabaseWrapper], str],
        fields: Callable[[], Sequence[Field[Any, Any]]] | None = None,
    ) -> None:
        self._build = build
        self._fields = fields
        self._sql: dict[str, str] = {}
        self._converters: dict[str, list[tuple[int, list[Callable[..., Any]], Any]]] = {}

    def sql(self, connection: BaseDatabaseWrapper) -> str:
        sql = self._sql.get(connection.vendor)
        if sql is None:
            sql = self._sql[connection.vendor] = self._build(connection)
        return sql

    def rows(self, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
        """Run it with `params` on the `using` connection (in its current transaction);
        its rows (a statement without any is not one of these: use a cursor)."""
        return self.rows_on(connections[using], params)

    def rows_on(self, connection: BaseDatabaseWrapper, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """`rows` on a connection the caller already holds."""
        rows = _execute(connection, self, self.sql(connection), params)
        if self._fields is None or not rows:
            return rows
        converters = self._converters_for(connection)
        if not converters:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index, functions, expression in converters:
                value = values[index]
                for function in functions:
                    value = function(value, expression, connection)
                values[index] = value
            converted.append(tuple(values))
        return converted

    def _converters_for(self, connection: BaseDatabaseWrapper) -> list[tuple[int, list[Callable[..., Any]], Any]]:
        """What SQLCompiler.get_converters finds for these columns, once per vendor."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self._fields() if self._fields else ()):
                expression = Value(None, output_field=field)
                functions = [
                    *connection.ops.get_db_converters(expression), *cast(Any, field).get_db_converters(connection)
                ]
                if functions:
                    found.append((index, functions, expression))
            self._converters[connection.vendor] = found
        return found


class ModelInsert:
    """INSERT of a new `model` instance as `Model.save()` would write it, without the
    ORM's per-call compilation: every concrete field but an auto primary key, with the
    instance's values (prepared by each field, `auto_now_add` set as save sets it). The
    new primary key is set on the instance. No signals are sent (NanoGen has none on
    the models this is used for)."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        meta = model._meta
        self._fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
        self._statement = Statement(self._build)
        self._defaults: dict[str, list[tuple[Any, Any] | None]] = {}

    def save(self, instance: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
        connection = connections[using]
        params = []
        for field, default in zip(self._fields, self._defaults_for(connection), strict=True):
            value = field.pre_save(instance, True)
            if default is not None and type(value) is type(default[0]) and value == default[0]:
                params.append(default[1])  # the field's default, prepared once
            else:
                params.append(field.get_db_prep_save(value, connection))
        instance.pk = self._statement.rows_on(connection, params)[0][0]
        instance._state.adding = False
        instance._state.db = using

    def _defaults_for(self, connection: BaseDatabaseWrapper) -> list[tuple[Any, Any] | None]:
        """Per field, once per vendor: its default and the default as get_db_prep_save
        prepares it, when the default is None or a plain str, int or bool (a value that
        cannot change, and that Django's fields prepare by its value alone). A new row leaves most
        fields at their default (a generation's result, error and provider columns), and
        preparing each of them again cost an insert more than its statement did."""
        found = self._defaults.get(connection.vendor)
        if found is None:
            found = []
            for field in self._fields:
                default = field.get_default()
                if default is None or type(default) in (str, int, bool):
                    found.append((default, field.get_db_prep_save(default, connection)))
                else:
                    found.append(None)
            self._defaults[connection.vendor] = found
        return found

    def _build(self, connection: BaseDatabaseWrapper) -> str:
        quote = connection.ops.quote_name
        meta = self.model._meta
        columns = ", ".join(quote(field.column) for field in self._fields)
        placeholders = ", ".join("%s" for _ in self._fields)
        pk = quote(meta.pk.column) if meta.pk is not None else "id"
        return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) RETURNING {pk}"  # noqa: S608


def _execute(
    connection: BaseDatabaseWrapper, statement: Statement, sql: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Run `statement` on `connection` and fetch its rows (every statement here returns
    rows). Prepared, it runs on a psycopg cursor of its own, kept for the connection:
    a cursor that runs the same query object again keeps psycopg's adaptation of the
    parameters and the rows (its Transformer), and no cursor is built and closed per
    statement, which cost a start more than the statement's round trip did."""
    if not _prepares(connection):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    connection.close_if_health_check_failed()
    if connection.connection is None:
        connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _kept_cursor(connection, statement)
    # Django's wrapper, as connection.cursor() would build it: execute wrappers, the
    # query log and counting see the statement. Not closed: the cursor is kept.
    wrapper = _PreparedDebugCursor(raw, connection) if connection.queries_logged else CursorWrapper(raw, connection)
    wrapper.execute(sql, params)
    with connection.wrap_database_errors:
        return raw.fetchall()


# The kept cursors: per Django connection (one per thread), per statement. A cursor is
# replaced when the connection under it was (closed, reconnected).
_kept: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[Statement, _PreparedCursor]]" = weakref.WeakKeyDictionary()


def _kept_cursor(connection: BaseDatabaseWrapper, statement: Statement) -> "_PreparedCursor":
    cursors = _kept.get(connection)
    if cursors is None:
        cursors = _kept[connection] = {}
    cursor = cursors.get(statement)
    if cursor is None or cursor.connection is not connection.connection or cursor.closed:
        with connection.wrap_database_errors:
            cursor = cursors[statement] = _PreparedCursor(connection.connection)
    return cursor


def _prepares(connection: BaseDatabaseWrapper) -> bool:
    """Whether statements are prepared on this connection (PostgreSQL with
    DATABASE_PREPARED_STATEMENTS on)."""
    options = connection.settings_dict["OPTIONS"]
    return connection.vendor == "postgresql" and options.get("prepare_threshold") is not None


def model_columns(connection: BaseDatabaseWrapper, model: type[Model], alias: str) -> str:
    """The select list of `model`'s concrete fields (in `_meta.concrete_fields` order), each
    qualified by `alias`: one part of a statement that reads several models in one row."""
    quote = connection.ops.quote_name
    return ", ".join(f"{quote(alias)}.{quote(field.column)}" for field in model._meta.concrete_fields)


def model_column(connection: BaseDatabaseWrapper, model: type[Model], name: str) -> str:
    """The quoted column of `model`'s field `name`."""
    return connection.ops.quote_name(cast(Field[Any, Any], model._meta.get_field(name)).column)


def model_fields(*models: type[Model]) -> list[Field[Any, Any]]:
    """The fields of the columns `model_columns` selects for `models`, in order: a
    Statement's `fields`, so that every value is loaded as the ORM loads it."""
    return [field for model in models for field in model._meta.concrete_fields]


def models_from_row(row: Sequence[Any], *models: type[Model], using: str = DEFAULT_DB_ALIAS) -> list[Model | None]:
    """The instances of `models` in `row` (their `model_columns`, one after the other), as
    the ORM builds them from a row (`Model.from_db`); None for a model whose primary key
    is NULL (a LEFT JOIN that found no row)."""
    instances: list[Model | None] = []
    start = 0
    for model in models:
        fields = model._meta.concrete_fields
        values = row[start:start + len(fields)]
        start += len(fields)
        pk_index = next(index for index, field in enumerate(fields) if field.primary_key)
        if values[pk_index] is None:
            instances.append(None)
            continue
        instances.append(model.from_db(using, [field.attname for field in fields], values))
    return instances


class _PreparedDebugCursor(CursorDebugWrapper):
    """Django's debug wrapper (DEBUG, CaptureQueriesContext) logs the text psycopg sent,
    which for a prepared statement is only its name: log the statement with its values."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's server-binding cursor; it prepares every statement on the connection
    the first time it runs it (Django's CursorWrapper passes no `prepare`)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = True, binary: bool | None = None
    ) -> "_PreparedCursor":
        super().execute(query, params, prepare=prepare, binary=binary)
        return self
