"""Counting rows, to show that a refused change wrote nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from banshui.core.db import Base
from banshui.runtime import Runtime


async def count(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(model))
    return int(rows or 0)
