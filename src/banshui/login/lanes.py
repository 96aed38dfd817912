"""Lanes (通道): one person in one region is served serially, in arrival order (R4).

The database holds the lanes, so the rule holds across processes. A request
holds its lane from taking it until its lease ends or it fails
(``holds_lane``), and a unique index lets one request of a lane hold it at a
time. A request takes its lane only when it is free and no request of that
lane that arrived earlier still waits. Whoever ends a holding, or a wait, rings
the lane's bell once it is committed, which wakes the lane's waiters in every
process.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import NamedTuple

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banshui.core.bells import Bells
from banshui.core.db import Database
from banshui.login.models import LoginRequest
from banshui.login.status import FINAL, IN_FLIGHT, Withdrawn

TOPIC = "lane"


class LaneKey(NamedTuple):
    person_id: int
    region: str

    @property
    def key(self) -> str:
        return f"{self.person_id}:{self.region}"


class Lanes:
    def __init__(self, db: Database, bells: Bells) -> None:
        self._db = db
        self._bells = bells

    async def take(self, lane: LaneKey, login_id: str) -> bool:
        """Take the lane if it is free and this request is first in line."""
        on_postgresql = not self._db.is_sqlite

        def work(session: Session) -> bool:
            if on_postgresql:
                # Requests of one lane look and take one after another;
                # SQLite's one writer does the same by itself.
                lock = func.hashtextextended(f"lane:{lane.key}", 0)
                session.execute(select(func.pg_advisory_xact_lock(lock)))
            login = session.get(LoginRequest, login_id)
            assert login is not None
            if login.status in FINAL:
                raise Withdrawn(login_id)
            if session.scalar(_ahead_of(login, lane)) is not None:
                return False
            login.holds_lane = True
            return True

        try:
            return await self._db.run_transaction(work)
        except IntegrityError:
            return False  # the unique index: another request holds it after all

    async def acquire(self, lane: LaneKey, login_id: str, seconds: float) -> bool:
        """Wait for the lane at most ``seconds``; whether it was taken."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        async with self._bells.listening(TOPIC, lane.key) as freed:
            while True:
                # Cleared before looking: a lane freed after the look wakes us.
                freed.clear()
                if await self.take(lane, login_id):
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(freed.wait(), remaining)

    async def busy(self, lane: LaneKey) -> bool:
        """Whether a request holds the lane (a login at work, or a lease)."""
        async with self._db.session() as session:
            holder = await session.scalar(
                select(LoginRequest.id)
                .where(
                    LoginRequest.person_id == lane.person_id,
                    LoginRequest.region == lane.region,
                    LoginRequest.holds_lane.is_(True),
                )
                .limit(1)
            )
        return holder is not None

    def freed(self, lane: LaneKey) -> None:
        """Call after committing the end of a holding or a wait: the next looks."""
        self._bells.ring(TOPIC, lane.key)


def _ahead_of(login: LoginRequest, lane: LaneKey) -> Select[str]:
    """The lane's holder, or a request of the lane that arrived earlier and waits.

    Waiting is being served by an engine: one put back in the queue (its engine
    stopped) keeps its place once claimed again, but holds up nobody meanwhile.
    """
    earlier = or_(
        LoginRequest.created_at < login.created_at,
        and_(
            LoginRequest.created_at == login.created_at,
            LoginRequest.id < login.id,
        ),
    )
    return (
        select(LoginRequest.id)
        .where(
            LoginRequest.person_id == lane.person_id,
            LoginRequest.region == lane.region,
            LoginRequest.id != login.id,
            or_(
                LoginRequest.holds_lane.is_(True),
                and_(
                    LoginRequest.status.in_(IN_FLIGHT),
                    LoginRequest.worker_id.is_not(None),
                    earlier,
                ),
            ),
        )
        .limit(1)
    )


class NumberLocks:
    """While a number's code is awaited, no other login of this process uses it.

    Across processes the database holds the same rule: a number awaits one code
    at a time (``CodeExpectation``); this spares a login the password step with
    a number another login of this process is using.
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._freed = asyncio.Event()

    def try_take(self, number: str) -> bool:
        if number in self._taken:
            return False
        self._taken.add(number)
        return True

    def give_back(self, number: str) -> None:
        self._taken.discard(number)
        self._freed.set()

    async def wait_for_any(self, seconds: float) -> None:
        self._freed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._freed.wait(), seconds)
