"""How often a client address was refused lately: the limits per client.

The query page, the console's sign-in and the API keys each keep their refusals
in a table of (client, at). A client refused ``limit`` times within ``window``
is turned away until the oldest of those refusals leaves the window. The rows
live in the database, so a restart resets no limit and every process sees them.
Refusals are kept under ``key``: an IPv6 client's under its /64, so that one host
does not get a fresh window with each address it picks from the block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Session

from banshui.core.addresses import LENGTH, counted_as


class Refusals(Protocol):
    """A table with one row per refused try: who tried, and when."""

    client: ClassVar[InstrumentedAttribute[str]]
    at: ClassVar[InstrumentedAttribute[datetime]]


@dataclass(frozen=True)
class ClientWindow:
    """``limit`` refusals of one client within ``window``, kept in ``table``."""

    table: type[Refusals]
    limit: int
    window: timedelta

    @staticmethod
    def key(client: str) -> str:
        """What the refusals of ``client`` are kept and counted under."""
        return counted_as(client)[:LENGTH]

    async def wait(
        self, session: AsyncSession, client: str, now: datetime
    ) -> timedelta | None:
        """How long ``client`` is still turned away; None while it may try."""
        count, oldest = (await session.execute(self._counted(client, now))).one()
        return self._left(count, oldest, now)

    def wait_in(self, session: Session, client: str, now: datetime) -> timedelta | None:
        """The same in a plain session, for ``Database.run_read``."""
        count, oldest = session.execute(self._counted(client, now)).one()
        return self._left(count, oldest, now)

    async def forget_old(self, session: AsyncSession, now: datetime) -> None:
        """Every client's refusals that have left the window."""
        await session.execute(
            delete(self.table).where(self.table.at <= now - self.window)
        )

    def _counted(self, client: str, now: datetime) -> Select[int, datetime]:
        """The client's refusals within the window, and the oldest of them."""
        return select(func.count(), func.min(self.table.at)).where(
            self.table.client == self.key(client), self.table.at > now - self.window
        )

    def _left(
        self, count: int, oldest: datetime | None, now: datetime
    ) -> timedelta | None:
        if count < self.limit or oldest is None:
            return None
        return oldest + self.window - now
