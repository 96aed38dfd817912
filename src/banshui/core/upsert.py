"""``INSERT … ON CONFLICT DO NOTHING`` on whichever database is in use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.core.db import Base


async def insert_ignoring_conflict(
    session: AsyncSession, model: type[Base], values: dict[str, Any]
) -> int | None:
    """Insert a row unless a unique key already holds it; the new id, or None."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = model.__table__
    statement = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )
    result = await session.execute(statement)
    return result.scalar_one_or_none()
