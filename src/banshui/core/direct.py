"""Statements run straight on SQLite's DBAPI cursor, for the storage thread's work.

SQLAlchemy's execution of one statement (its context, events, result and
parameter handling) costs tens of microseconds of Python where SQLite itself
takes a few, and a batch of webhook SMS runs several. On SQLite these run on
the session's own connection, in its transaction, compiled by SQLAlchemy once
and their values converted by their columns' own types, so that what is
written and compared is exactly what SQLAlchemy would write. On PostgreSQL
the same calls go through SQLAlchemy as usual.

Only answers that need no conversion (ids, text) are read this way: a
statement that returns a time or a boolean is refused when it is first run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Select, Table, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from banshui.core.db import Base

Convert = Callable[[Any], Any]
Row = tuple[Any, ...]
Statement = Select[*tuple[Any, ...]] | Update
T = TypeVar("T")

# The types' conversions for SQLite are the same whichever engine asks.
_SQLITE = pysqlite.dialect()
_NOTHING = object()


@dataclass(frozen=True, slots=True)
class _Slot:
    """What goes into one ``?``: a parameter, or one item of a list parameter."""

    name: str
    index: int | None
    convert: Convert | None
    # A value fixed in the statement itself (``.values(fulfilled=True)``).
    fixed: Any = _NOTHING


@dataclass(frozen=True, slots=True)
class _Ready:
    sql: str
    slots: tuple[_Slot, ...]

    def values(self, params: Mapping[str, Any]) -> Row:
        values = []
        for slot in self.slots:
            if slot.name not in params and slot.fixed is not _NOTHING:
                value = slot.fixed
            elif slot.index is None:
                value = params[slot.name]
            else:
                value = params[slot.name][slot.index]
            values.append(value if slot.convert is None else slot.convert(value))
        return tuple(values)


class Prepared:
    """A Core statement built once, run on SQLite's cursor where it can be."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._compiled: SQLCompiler | None = None
        # Its list (``IN``) parameters, and the statement ready for each set
        # of their lengths.
        self._lists: tuple[str, ...] = ()
        self._ready: dict[tuple[int, ...], _Ready] = {}

    def fetch_all(self, session: Session, params: Mapping[str, Any]) -> list[Row]:
        """Every row of the answer, as plain tuples."""
        connection = session.connection()
        if not _on_cursor(connection.dialect):
            return [tuple(row) for row in connection.execute(self.statement, params)]

        _flush(session)
        ready = self._prepared(connection.dialect, params)
        return _run(
            connection, ready.sql, lambda cursor: _fetched(cursor, ready, params)
        )

    def execute_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once for each of the rows (an update by id, say)."""
        if not rows:
            return
        connection = session.connection()
        if not _on_cursor(connection.dialect):
            connection.execute(self.statement, list(rows))
            return

        _flush(session)
        ready = self._prepared(connection.dialect, rows[0])
        values = [ready.values(row) for row in rows]
        _run(
            connection, ready.sql, lambda cursor: cursor.executemany(ready.sql, values)
        )

    def _prepared(self, dialect: Dialect, params: Mapping[str, Any]) -> _Ready:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compile(dialect)
        lengths = tuple(len(params[name]) for name in self._lists)
        ready = self._ready.get(lengths)
        if ready is None:
            ready = _expanded(compiled, dialect, params)
            self._ready[lengths] = ready
        return ready

    def _compile(self, dialect: Dialect) -> SQLCompiler:
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        _refuse_converted_answers(
            getattr(self.statement, "selected_columns", ()), dialect
        )
        binds = compiled.binds.items()
        self._lists = tuple(sorted(name for name, bind in binds if bind.expanding))
        self._compiled = compiled
        return compiled


def insert_rows(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    returning: tuple[str, ...] = (),
    skip_conflicts: bool = False,
) -> list[Row]:
    """Rows inserted in one statement; the ``returning`` columns of each inserted.

    Every row names the same columns. With ``skip_conflicts`` a row a unique
    key already holds is not inserted (``ON CONFLICT DO NOTHING``), nor is any
    after the first of the batch with the same key.
    """
    if not rows:
        return []
    table = model.__table__
    assert isinstance(table, Table)
    connection = session.connection()
    dialect = connection.dialect
    if not _on_cursor(dialect):
        statement = insert_statement(dialect.name, table, returning, skip_conflicts)
        answer = connection.execute(statement, list(rows))
        return [tuple(row) for row in answer] if returning else []

    _flush(session)
    columns = tuple(rows[0])
    sql, converts = _insert_sql(table, columns, returning, skip_conflicts, len(rows))
    values = _converted(rows, columns, converts)
    if not returning:
        _run(connection, sql, lambda cursor: cursor.execute(sql, values))
        return []
    return _run(connection, sql, lambda cursor: cursor.execute(sql, values).fetchall())


def _converted(
    rows: Sequence[Mapping[str, Any]],
    columns: tuple[str, ...],
    converts: tuple[Convert | None, ...],
) -> list[Any]:
    """The rows' values in order, as the columns' types convert them.

    A batch's rows share their times (its "now"): a value that is the very
    one the row before had is converted once.
    """
    values: list[Any] = []
    seen: list[Any] = [_NOTHING] * len(columns)
    done: list[Any] = [None] * len(columns)
    for row in rows:
        for index, name in enumerate(columns):
            value = row[name]
            convert = converts[index]
            if convert is None:
                values.append(value)
                continue
            if value is not seen[index]:
                seen[index], done[index] = value, convert(value)
            values.append(done[index])
    return values


def _fetched(
    cursor: sqlite3.Cursor, ready: _Ready, params: Mapping[str, Any]
) -> list[Row]:
    rows: list[Row] = cursor.execute(ready.sql, ready.values(params)).fetchall()
    return rows


def _on_cursor(dialect: Dialect) -> bool:
    # The plain driver's connection: the storage thread's, not aiosqlite's.
    return dialect.name == "sqlite" and dialect.driver == "pysqlite"


def _run(connection: Connection, sql: str, step: Callable[[sqlite3.Cursor], T]) -> T:
    """``step`` on a cursor of the session's connection, in its transaction."""
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    cursor = raw.cursor()
    try:
        return step(cursor)
    except sqlite3.Error as error:
        # As SQLAlchemy raises it, and with no value in the message: SMS texts
        # and codes stay out of the logs.
        raise DBAPIError.instance(
            sql,
            None,
            error,
            sqlite3.Error,
            hide_parameters=True,
            dialect=connection.dialect,
        ) from error
    finally:
        cursor.close()


def _flush(session: Session) -> None:
    # A statement through the session would see what it holds unflushed.
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()


def _expanded(
    compiled: SQLCompiler, dialect: Dialect, params: Mapping[str, Any]
) -> _Ready:
    state = compiled.construct_expanded_state(dict(params))
    items = {
        item: (name, index)
        for name, expanded in state.parameter_expansion.items()
        for index, item in enumerate(expanded)
    }
    slots = []
    for positional in state.positiontup or ():
        name, index = items.get(positional, (positional, None))
        bind: BindParameter[Any] = compiled.binds[name]
        fixed = _NOTHING if bind.required else bind.effective_value
        slots.append(_Slot(name, index, _converter(bind.type, dialect), fixed))
    return _Ready(state.statement, tuple(slots))


@cache
def _insert_sql(
    table: Table,
    columns: tuple[str, ...],
    returning: tuple[str, ...],
    skip_conflicts: bool,
    count: int,
) -> tuple[str, tuple[Convert | None, ...]]:
    _refuse_python_defaults(table, columns)
    _refuse_converted_answers([table.c[name] for name in returning], _SQLITE)
    quote = _SQLITE.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    one_row = "(" + ", ".join("?" for _ in columns) + ")"
    # Names from the table's own metadata, quoted; every value is a parameter.
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES "  # noqa: S608
    sql += ", ".join(one_row for _ in range(count))
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(name) for name in returning)
    converts = tuple(_converter(table.c[name].type, _SQLITE) for name in columns)
    return sql, converts


@cache
def insert_statement(
    dialect: str, table: Table, returning: tuple[str, ...], skip_conflicts: bool
) -> Insert:
    """The Core insert for the other databases, built once."""
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table)
        if skip_conflicts:
            statement = statement.on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table)
        if skip_conflicts:
            statement = statement.on_conflict_do_nothing()
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    return statement


def _converter(type_: TypeEngine[Any], dialect: Dialect) -> Convert | None:
    convert: Convert | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return convert


def _refuse_converted_answers(
    columns: Iterable[ColumnElement[Any]], dialect: Dialect
) -> None:
    for column in columns:
        if column.type.dialect_impl(dialect).result_processor(dialect, None):
            raise TypeError(f"{column} is converted when read: not for the cursor")


def _refuse_python_defaults(table: Table, columns: tuple[str, ...]) -> None:
    for column in table.c:
        if column.name not in columns and column.default is not None:
            raise TypeError(f"{column} takes a default in Python: name it")
