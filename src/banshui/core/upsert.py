"""``INSERT … ON CONFLICT DO NOTHING`` on whichever database is in use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banshui.core.db import Base
from banshui.core.direct import insert_rows, insert_statement


async def insert_ignoring_conflict(
    session: AsyncSession, model: type[Base], values: dict[str, Any]
) -> int | None:
    """Insert a row unless a unique key already holds it; the new id, or None."""
    statement = _ignoring_conflict(session.get_bind().dialect.name, _table(model))
    result = await session.execute(statement, values)
    return result.scalar_one_or_none()


def insert_ignoring_conflict_sync(
    session: Session, model: type[Base], values: dict[str, Any]
) -> int | None:
    """``insert_ignoring_conflict`` for work run in one trip (``run_transaction``)."""
    statement = _ignoring_conflict(session.get_bind().dialect.name, _table(model))
    return session.execute(statement, values).scalar_one_or_none()


def insert_new_rows(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """The rows no unique key holds yet, inserted in one statement.

    The answer holds the ``returning`` columns of the rows inserted, none for
    the others; of rows that share a key, only the first is inserted.
    """
    # Straight through the connection (on SQLite its cursor): the session's
    # ORM layer would add a third to the cost of a statement that loads no
    # objects.
    return insert_rows(session, model, rows, returning, skip_conflicts=True)


def _ignoring_conflict(
    dialect: str, table: Table, returning: tuple[str, ...] = ("id",)
) -> Insert:
    # Built once, the values passed as parameters: building a statement around
    # its values costs far more than running it.
    return insert_statement(dialect, table, returning, skip_conflicts=True)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
