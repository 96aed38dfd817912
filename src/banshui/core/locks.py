"""Taking turns inside a transaction, across processes, by name."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def take_turn(session: AsyncSession, key: str) -> None:
    """Hold ``key`` until the transaction ends; others taking it wait till then.

    For a read that decides a write (count, then insert): on PostgreSQL two
    transactions would both read before either writes. SQLite needs nothing:
    its transactions begin IMMEDIATE, one writer after another.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)))
    )
