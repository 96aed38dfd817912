"""Keep-alive (DESIGN §5.8): which kept sessions have been idle long enough."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.login.models import BureauSession


async def idle_sessions(
    db: Database, clock: Clock, seconds: float
) -> list[BureauSession]:
    """Live sessions nobody has used or checked for ``seconds``, oldest first."""
    since = clock.now() - timedelta(seconds=seconds)
    async with db.session() as session:
        rows = await session.scalars(
            select(BureauSession)
            .where(BureauSession.state == "live", BureauSession.checked_at <= since)
            .order_by(BureauSession.checked_at, BureauSession.id)
        )
        return list(rows)
