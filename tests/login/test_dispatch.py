"""Engines claim requests from the database: each once, and a stopped one's again.

Two dispatchers on one database stand for the engines of two processes (on
PostgreSQL they are as apart as two processes: each has its own connections and
hears the other only through the database). Their runs are recorded, not served
at the bureau: what is under test is who serves which request.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from banshui.accounts.service import Registry
from banshui.accounts.tenants import add_tenant
from banshui.core.bells import bells_for
from banshui.core.clock import SystemClock
from banshui.core.db import Database
from banshui.core.settings import Settings
from banshui.demo.cast import A
from banshui.login.dispatch import TAKEN_UP, Dispatcher
from banshui.login.models import EngineWorker, LoginEvent, LoginRequest
from banshui.login.requests import create_login
from banshui.login.status import Status
from banshui.runtime import build_runtime

REQUESTS = 30


@dataclass
class Engine:
    """A dispatcher whose runs note the request, then wait until told to end."""

    dispatcher: Dispatcher
    served: list[str]
    hold: asyncio.Event


@pytest.fixture
async def tenant(database_url: str, tmp_path: Path) -> AsyncIterator[int]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        secret_key=base64.b64encode(os.urandom(32)).decode(),
        simulator="off",
    )
    runtime = build_runtime(settings)
    made = await add_tenant(runtime.db, runtime.clock, "示例集团", actor="test")
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.add_enterprise(made.tenant.id, A.tax_id, A.name)
    await runtime.close()
    yield made.tenant.id


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[Engine]]:
    made: list[Engine] = []
    closing = []
    for _ in range(2):
        db, bells = Database(database_url), bells_for(database_url)
        await bells.start()
        served: list[str] = []
        hold = asyncio.Event()
        dispatcher = Dispatcher(
            db,
            bells,
            SystemClock(),
            serve=_recording(db, served, hold),
            give_up=_nothing,
            changed=lambda login: None,
            concurrency=REQUESTS,
        )
        made.append(Engine(dispatcher, served, hold))
        closing.append((db, bells))
    yield made
    for engine in made:
        engine.hold.set()
        await engine.dispatcher.stop()
    for db, bells in closing:
        await bells.close()
        await db.close()


def _recording(
    db: Database, served: list[str], hold: asyncio.Event
) -> Callable[[str], Awaitable[None]]:
    async def serve(login_id: str) -> None:
        # Under way, as a run waiting for its code would be.
        async with db.transaction() as session:
            await session.execute(
                update(LoginRequest)
                .where(LoginRequest.id == login_id)
                .values(status=Status.WAITING_CODE)
            )
        served.append(login_id)
        await hold.wait()

    return serve


async def _nothing(waiter: str) -> None:
    return None


async def test_requests_asked_at_once_are_each_claimed_by_one_engine(
    database_url: str, tenant: int, engines: list[Engine]
) -> None:
    for engine in engines:
        await engine.dispatcher.start()

    asked = await _ask(database_url, tenant, REQUESTS)
    await _until(lambda: sum(len(e.served) for e in engines) >= REQUESTS)

    claims = Counter(login_id for e in engines for login_id in e.served)
    assert set(claims) == asked
    assert set(claims.values()) == {1}
    owners = await _owners(database_url, asked)
    assert owners == {
        login_id: engine.dispatcher.worker_id
        for engine in engines
        for login_id in engine.served
    }


async def test_the_requests_of_an_engine_gone_silent_are_taken_up_by_another(
    database_url: str, tenant: int, engines: list[Engine]
) -> None:
    gone, other = engines
    await gone.dispatcher.start()
    # As many as it works on at once: it claims no more after them.
    asked = await _ask(database_url, tenant, REQUESTS)
    await _until(lambda: len(gone.served) == REQUESTS)
    # It stops being seen (killed, or cut off from the database) mid-run.
    await _last_seen(database_url, gone.dispatcher.worker_id, timedelta(hours=1))

    await other.dispatcher.start()
    await _until(lambda: len(other.served) == REQUESTS)

    assert set(other.served) == asked
    assert await _owners(database_url, asked) == dict.fromkeys(
        asked, other.dispatcher.worker_id
    )
    assert await _taken_up_events(database_url, asked) == len(asked)


async def test_an_engine_stopping_hands_its_requests_back_at_once(
    database_url: str, tenant: int, engines: list[Engine]
) -> None:
    stopping, other = engines
    await stopping.dispatcher.start()
    await other.dispatcher.start()
    asked = await _ask(database_url, tenant, 6)
    await _until(lambda: len(stopping.served) + len(other.served) == 6)
    handed_back = set(stopping.served)

    await stopping.dispatcher.stop()
    await _until(lambda: len(other.served) == 6)

    assert set(other.served) == asked
    assert handed_back <= set(other.served)


# Helpers.


async def _ask(url: str, tenant_id: int, count: int) -> set[str]:
    db = Database(url)
    bells = bells_for(url)
    await bells.start()
    try:
        asked = set()
        for _ in range(count):
            login = await create_login(
                db,
                SystemClock(),
                tenant_id=tenant_id,
                tax_id=A.tax_id,
                business="receive",
                account_id=None,
                deadline_seconds=600,
            )
            asked.add(login.id)
        # As the API does after asking: every engine, here or elsewhere, looks.
        bells.ring("queue", "")
        await asyncio.sleep(0.05)  # the ring leaves before the connection closes
        return asked
    finally:
        await bells.close()
        await db.close()


async def _until(condition: Callable[[], bool], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"not within {seconds} s")


async def _owners(url: str, ids: set[str]) -> dict[str, str | None]:
    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(LoginRequest.id, LoginRequest.worker_id).where(
                    LoginRequest.id.in_(ids)
                )
            )
            return {login_id: worker for login_id, worker in rows}
    finally:
        await db.close()


async def _last_seen(url: str, worker_id: str, ago: timedelta) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            seen = await session.scalar(
                select(EngineWorker.seen_at).where(EngineWorker.id == worker_id)
            )
            assert seen is not None
            await session.execute(
                update(EngineWorker)
                .where(EngineWorker.id == worker_id)
                .values(seen_at=seen - ago)
            )
    finally:
        await db.close()


async def _taken_up_events(url: str, ids: set[str]) -> int:
    db = Database(url)
    try:
        async with db.session() as session:
            events = await session.scalars(
                select(LoginEvent).where(
                    LoginEvent.login_id.in_(ids),
                    LoginEvent.status == Status.QUEUED,
                    LoginEvent.detail == TAKEN_UP,
                )
            )
            return len(list(events))
    finally:
        await db.close()
