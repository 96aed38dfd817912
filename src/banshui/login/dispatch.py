"""Dispatch: every running engine claims login requests from the database.

A request asked of any process waits in ``login_requests`` as ``queued``.
Each engine claims what it has room for with ``FOR UPDATE SKIP LOCKED``, so a
request is served by one engine only, and serves it. Asking rings the queue's
bell, which wakes the engines of every process at once.

Each engine is an ``EngineWorker`` row that it touches every few seconds. An
engine not seen for a while has stopped (or lost the database): another takes
its requests in flight up again from the start, and they keep their place in
their lanes. An engine that stops on purpose hands its requests back itself.
On SQLite there is one process, so whatever another engine left is taken up at
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banshui.core.bells import Bells
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.login.lanes import TOPIC as LANE_TOPIC
from banshui.login.lanes import LaneKey
from banshui.login.models import EngineWorker, LoginEvent, LoginRequest
from banshui.login.status import IN_FLIGHT, Status, Withdrawn

logger = logging.getLogger(__name__)

TOPIC = "queue"
# An engine touches its row this often; one not seen for STALE_AFTER is gone.
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=30)
# Requests nobody rang for (and engines gone) are looked for at least this often.
LOOK_SECONDS = 10.0
TAKEN_UP = "taken up again: the process serving it stopped"

Serve = Callable[[str], Awaitable[None]]
GiveUp = Callable[[str], Awaitable[None]]
Changed = Callable[[LoginRequest], None]


class LostLogin(Exception):
    """Another engine serves the request now: this one stops touching it."""


class Dispatcher:
    def __init__(
        self,
        db: Database,
        bells: Bells,
        clock: Clock,
        *,
        serve: Serve,
        give_up: GiveUp,
        changed: Changed,
        concurrency: int,
    ) -> None:
        self._db = db
        self._bells = bells
        self._clock = clock
        self._serve = serve
        self._give_up = give_up
        self._changed = changed
        self._concurrency = concurrency
        self.worker_id = uuid.uuid4().hex
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._nudge = asyncio.Event()

    async def start(self) -> None:
        await self._register()
        await self.take_up_left_work()
        self._loops = [asyncio.create_task(self._claim_forever())]
        if not self._db.is_sqlite:
            self._loops.append(asyncio.create_task(self._heartbeat_forever()))

    async def stop(self) -> None:
        """Stop the runs, then hand their requests back to the queue."""
        tasks = [*self._loops, *self._runs.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runs.clear()
        try:
            await self._take_up(self.worker_id)
        except Exception:
            logger.exception("handing the requests in flight back failed")

    def ring(self) -> None:
        """A request was asked for: every engine looks at the queue."""
        self._bells.ring(TOPIC, "")

    async def take_up_left_work(self) -> int:
        """Requests in flight of engines gone (or of none) go back to the queue."""
        async with self._db.transaction() as session:
            gone = select(EngineWorker.id).where(EngineWorker.id != self.worker_id)
            if not self._db.is_sqlite:
                gone = gone.where(EngineWorker.seen_at < _wall_clock() - STALE_AFTER)
            workers = list(await session.scalars(gone))
        taken = 0
        for worker_id in [*workers, None]:
            taken += await self._take_up(worker_id)
        return taken

    # Claiming.

    async def _claim_forever(self) -> None:
        loop = asyncio.get_running_loop()
        looked_at = loop.time()
        async with self._bells.listening(TOPIC, "") as rung:
            while True:
                rung.clear()
                self._nudge.clear()
                try:
                    await self._claim()
                    if loop.time() - looked_at >= LOOK_SECONDS:
                        looked_at = loop.time()
                        if not self._db.is_sqlite:
                            await self.take_up_left_work()
                except Exception:
                    logger.exception("claiming login requests failed")
                await _first(rung.wait(), self._nudge.wait(), LOOK_SECONDS)

    async def _claim(self) -> None:
        room = self._concurrency - len(self._runs)
        if room <= 0:
            return
        worker_id = self.worker_id

        def work(session: Session) -> list[str]:
            ids = list(
                session.scalars(
                    select(LoginRequest.id)
                    .where(
                        LoginRequest.status == Status.QUEUED,
                        LoginRequest.worker_id.is_(None),
                    )
                    .order_by(LoginRequest.created_at, LoginRequest.id)
                    .limit(room)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                session.execute(
                    update(LoginRequest)
                    .where(LoginRequest.id.in_(ids))
                    .values(worker_id=worker_id)
                )
            return ids

        ids = await self._db.run_transaction(work)
        for login_id in ids:
            task = asyncio.create_task(self._run(login_id))
            self._runs[login_id] = task
            task.add_done_callback(partial(self._finished, login_id))

    async def _run(self, login_id: str) -> None:
        try:
            await self._serve(login_id)
        except LostLogin:
            logger.warning("login %s is served by another process now", login_id)
        except Withdrawn:
            logger.info("login %s was withdrawn by its caller", login_id)

    def _finished(self, login_id: str, _: asyncio.Task[None]) -> None:
        self._runs.pop(login_id, None)
        self._nudge.set()  # room for one more

    # Engines seen, and the work of those gone.

    async def _register(self) -> None:
        now = _wall_clock()
        name = f"{socket.gethostname()}:{os.getpid()}"[:200]
        async with self._db.transaction() as session:
            session.add(
                EngineWorker(id=self.worker_id, name=name, started_at=now, seen_at=now)
            )

    async def _heartbeat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                if not await self._seen():
                    await self._declared_gone()
            except Exception:
                logger.exception("the engine's heartbeat failed")

    async def _seen(self) -> bool:
        async with self._db.transaction() as session:
            touched = await session.execute(
                update(EngineWorker)
                .where(EngineWorker.id == self.worker_id)
                .values(seen_at=_wall_clock())
            )
        return bool(getattr(touched, "rowcount", 0))

    async def _declared_gone(self) -> None:
        """Taken for gone (too long unseen): the requests are another's now."""
        logger.warning("this engine was not seen for too long: its runs stop")
        runs = list(self._runs.values())
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        await self._register()

    async def _take_up(self, worker_id: str | None) -> int:
        """Requeue the requests in flight of one engine (None: of no live engine)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            rows = list(
                await session.scalars(
                    select(LoginRequest)
                    .where(_left_by(worker_id))
                    .order_by(LoginRequest.created_at)
                    .with_for_update()
                )
            )
            for login in rows:
                _requeue(session, login, now)
            if worker_id is not None:
                await session.execute(
                    delete(EngineWorker).where(EngineWorker.id == worker_id)
                )
        await self._after_taking_up(rows)
        return len(rows)

    async def _after_taking_up(self, rows: list[LoginRequest]) -> None:
        for login in rows:
            # The code a stopped run awaited goes to nobody (DESIGN §5.6).
            await self._give_up(f"login:{login.id}")
            self._changed(login)
            if login.person_id is not None and login.region is not None:
                lane = LaneKey(login.person_id, login.region)
                self._bells.ring(LANE_TOPIC, lane.key)
        if rows:
            self.ring()


def _left_by(worker_id: str | None) -> ColumnElement[bool]:
    in_flight = LoginRequest.status.in_(IN_FLIGHT)
    if worker_id is not None:
        return and_(in_flight, LoginRequest.worker_id == worker_id)
    # Claimed by an engine whose row is gone, or cut short before engines
    # claimed requests (a request in flight never claimed is not queued).
    orphaned = or_(
        and_(LoginRequest.worker_id.is_(None), LoginRequest.status != Status.QUEUED),
        and_(
            LoginRequest.worker_id.is_not(None),
            LoginRequest.worker_id.not_in(select(EngineWorker.id)),
        ),
    )
    return and_(in_flight, orphaned)


def _requeue(session: AsyncSession, login: LoginRequest, now: datetime) -> None:
    was = login.status
    if was == Status.WAITING_PERSON:
        login.reason, login.waiting_for = None, None
    login.status = Status.QUEUED
    login.worker_id = None
    login.holds_lane = False
    # A code typed for the flow that was cut short fits no new one.
    login.typed_code_sealed = None
    login.updated_at = now
    if was != Status.QUEUED:
        session.add(
            LoginEvent(login_id=login.id, at=now, status=Status.QUEUED, detail=TAKEN_UP)
        )


async def _first(
    one: Awaitable[object], two: Awaitable[object], seconds: float
) -> None:
    """Until either awaitable is done, or ``seconds`` have passed."""
    tasks = {asyncio.ensure_future(one), asyncio.ensure_future(two)}
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


def _wall_clock() -> datetime:
    # Whether an engine lives is real time, whatever clock the engine's logins
    # read (tests move that one by hours).
    return datetime.now(UTC)
