"""Bureau sessions as banshui keeps them: one live session per lane."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Update, select, update
from sqlalchemy.orm import Session

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.vault import Vault
from banshui.drivers.base import SessionHandle
from banshui.login.lanes import LaneKey
from banshui.login.models import BureauSession

COOKIE_PURPOSE = "session-cookies"


class SessionStore:
    def __init__(self, db: Database, vault: Vault, clock: Clock) -> None:
        self._db = db
        self._vault = vault
        self._clock = clock

    async def live(self, lane: LaneKey) -> tuple[BureauSession, SessionHandle] | None:
        newest = (
            select(BureauSession)
            .where(
                BureauSession.person_id == lane.person_id,
                BureauSession.region == lane.region,
                BureauSession.state == "live",
            )
            .order_by(BureauSession.id.desc())
            .limit(1)
        )
        row = await self._db.run_read(lambda session: session.scalar(newest))
        if row is None:
            return None
        return row, self.handle(row)

    def handle(self, row: BureauSession) -> SessionHandle:
        cookies = json.loads(self._vault.open(row.cookies_sealed, COOKIE_PURPOSE))
        return SessionHandle(
            base_url=row.base_url,
            cookies=cookies,
            tax_id="",
            identity_code=row.identity_code,
            region=row.region,
        )

    async def keep(
        self,
        lane: LaneKey,
        number: str,
        enterprise_id: int,
        handle: SessionHandle,
    ) -> BureauSession:
        """Store a fresh session; the lane's older ones are ended (R4)."""
        now = self._clock.now()
        row = BureauSession(
            person_id=lane.person_id,
            region=lane.region,
            number=number,
            enterprise_id=enterprise_id,
            identity_code=handle.identity_code,
            base_url=handle.base_url,
            cookies_sealed=self._vault.seal(json.dumps(handle.cookies), COOKIE_PURPOSE),
            state="live",
            created_at=now,
            checked_at=now,
        )

        def work(session: Session) -> BureauSession:
            session.execute(_end_lane(lane, "ended"))
            session.add(row)
            return row

        return await self._db.run_transaction(work)

    async def switched(
        self, session_id: int, enterprise_id: int, identity_code: str
    ) -> None:
        await self._update(
            session_id,
            enterprise_id=enterprise_id,
            identity_code=identity_code,
            checked_at=self._clock.now(),
        )

    async def take_for_probe(self, row: BureauSession) -> bool:
        """Whether this process probes the idle session: the first to mark it.

        Every engine looks for idle sessions; the one whose mark lands probes, so
        a session is probed (and found dead, and announced) once.
        """
        marked = await self._update(
            row.id,
            when=(BureauSession.state == "live")
            & (BureauSession.checked_at == row.checked_at),
            checked_at=self._clock.now(),
        )
        return marked > 0

    async def touched(self, session_id: int) -> None:
        await self._update(session_id, checked_at=self._clock.now())

    async def dropped(self, session_id: int) -> None:
        await self._update(session_id, state="dropped", checked_at=self._clock.now())

    async def _update(
        self,
        session_id: int,
        when: ColumnElement[bool] | None = None,
        **values: Any,
    ) -> int:
        """One session's row changed in one trip; how many rows were."""
        statement = update(BureauSession).where(BureauSession.id == session_id)
        if when is not None:
            statement = statement.where(when)
        statement = statement.values(**values)

        def work(session: Session) -> int:
            result = session.execute(statement)
            return int(getattr(result, "rowcount", 0))

        return await self._db.run_transaction(work)


def _end_lane(lane: LaneKey, state: str) -> Update:
    return (
        update(BureauSession)
        .where(
            BureauSession.person_id == lane.person_id,
            BureauSession.region == lane.region,
            BureauSession.state == "live",
        )
        .values(state=state)
    )
