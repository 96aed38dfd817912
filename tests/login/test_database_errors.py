"""A database that does not answer (``database is locked``) never leaves a login in
flight: it ends failed, naming the cause, or is served once the database answers."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banshui.core.db import Database
from banshui.demo.cast import A
from banshui.login.models import LoginRequest
from banshui.simulator.faults import Switches

from .conftest import (
    CastOn,
    Sandbox,
    Sleeper,
    bureau_of,
    engine_of,
    manual_clock,
    served,
)

LOCKED = "database is locked"

T = TypeVar("T")


class BusyDatabase:
    """The engine's database, refusing chosen work the way a busy SQLite does.

    A refused session fails as its ``BEGIN IMMEDIATE`` would after the busy
    time-out; a refused write is rolled back instead of committed.
    """

    def __init__(self, real: Database) -> None:
        self.real = real
        self.reads_to_refuse = 0
        self.writes_to_refuse: Counter[str] = Counter()
        self.refused: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        self._refuse_a_read()
        async with self.real.session() as session:
            yield session

    async def run_read(self, work: Callable[[Session], T]) -> T:
        self._refuse_a_read()
        return await self.real.run_read(work)

    def _refuse_a_read(self) -> None:
        if self.reads_to_refuse > 0:
            self.reads_to_refuse -= 1
            self.refused.append("read")
            raise _locked()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.real.sessions() as session, session.begin():
            yield session
            self._refuse_chosen(session)

    async def run_transaction(self, work: Callable[[Session], T]) -> T:
        def refused_or_done(session: Session) -> T:
            done = work(session)
            self._refuse_chosen(session)
            return done

        return await self.real.run_transaction(refused_or_done)

    def _refuse_chosen(self, session: AsyncSession | Session) -> None:
        for status in _statuses_written(session):
            if self.writes_to_refuse[status] > 0:
                self.writes_to_refuse[status] -= 1
                self.refused.append(status)
                raise _locked()


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(LOCKED))


def _statuses_written(session: AsyncSession | Session) -> list[str]:
    return [row.status for row in session.dirty if isinstance(row, LoginRequest)]


def _busy(sandbox: Sandbox) -> BusyDatabase:
    """Put the busy database between the engine and its requests."""
    engine = engine_of(sandbox)
    busy = BusyDatabase(sandbox.stack.runtime.db)
    engine._db = busy  # type: ignore[assignment]  # the test's seam
    return busy


async def test_a_failure_the_database_would_not_write_is_written_once_it_answers(
    cast_on: CastOn, caplog: pytest.LogCaptureFixture
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock, real_seconds=0.005)) as sandbox:
        busy = _busy(sandbox)
        busy.writes_to_refuse["failed"] = 3
        bureau_of(sandbox).state.faults.switches = Switches(person_not_found=1.0)

        with caplog.at_level(logging.WARNING, logger="banshui.login.engine"):
            failed = await served(sandbox, A)

        assert failed["status"] == "failed"
        assert failed["reason"].startswith("the bureau kept failing the password step")
        assert busy.refused == ["failed", "failed", "failed"]
        told = [r.getMessage() for r in caplog.records if "trying again" in r.message]
        assert told == [
            f"login {failed['id']}: writing its failure failed ({LOCKED}); trying again"
        ]

        # The lane is free: the next request of 张三 in 深圳 is served.
        bureau_of(sandbox).state.faults.switches = Switches()
        assert (await served(sandbox, A))["status"] == "succeeded"


async def test_a_request_the_database_would_not_read_is_served_once_it_answers(
    cast_on: CastOn,
) -> None:
    # No lease sweep during the test: the refused reads are all the request's.
    async with cast_on(lease_sweep_seconds=60) as sandbox:
        busy = _busy(sandbox)
        busy.reads_to_refuse = 3

        login = await served(sandbox, A)

        assert (login["status"], login["sms_used"]) == ("succeeded", 1)
        assert busy.refused == ["read", "read", "read"]


async def test_a_database_error_mid_login_fails_it_naming_the_database(
    sandbox: Sandbox,
) -> None:
    busy = _busy(sandbox)
    busy.writes_to_refuse.update({"succeeded": 1, "failed": 2})

    failed = await served(sandbox, A)

    assert failed["status"] == "failed"
    assert failed["reason"] == (
        f"banshui's database did not answer during the login ({LOCKED}): "
        "ask for the login again"
    )
    assert busy.refused == ["succeeded", "failed", "failed"]
    # Asked again, the lane is free and the session the first one kept is reused.
    again = await served(sandbox, A)
    assert (again["status"], again["sms_used"], again["switched"]) == (
        "succeeded",
        0,
        False,
    )
