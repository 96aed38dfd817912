"""Counting rows, to show that a refused request wrote nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from banshui.core.db import Base
from banshui.login.models import LoginEvent, LoginRequest
from banshui.runtime import Runtime


async def count(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(model))
    return int(rows or 0)


async def login_rows(runtime: Runtime) -> tuple[int, int]:
    """How many login requests and timeline events the database holds."""
    return await count(runtime, LoginRequest), await count(runtime, LoginEvent)
