"""Numbers at rest: after an awaited code did not come, no new code for a while.

The code may still arrive late. Until it could no longer be valid, a new code
on the same number could not be told from the late one, so no login asks for
one there (DESIGN §5.6: a late code is never handed to another login).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from banshui.core.clock import Clock, as_utc
from banshui.core.db import Database
from banshui.login.models import RestingNumber


class RestingNumbers:
    def __init__(self, db: Database, clock: Clock, seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._rest = timedelta(seconds=seconds)

    async def rest(self, number: str) -> datetime | None:
        """Let the number rest for a code's validity; when it may be asked again."""
        if not self._rest:
            return None
        now = self._clock.now()
        until = now + self._rest
        async with self._db.transaction() as session:
            # Rests that are over tell nothing any more.
            await session.execute(
                delete(RestingNumber).where(RestingNumber.until <= now)
            )
            session.add(RestingNumber(number=number, until=until))
        return until

    async def until(self, number: str) -> datetime | None:
        """When the number's rest ends, or None when it is not resting."""
        ends_at = select(func.max(RestingNumber.until)).where(
            RestingNumber.number == number
        )
        latest = await self._db.run_read(lambda session: session.scalar(ends_at))
        if latest is None:
            return None
        ends = as_utc(latest)
        return ends if ends > self._clock.now() else None
