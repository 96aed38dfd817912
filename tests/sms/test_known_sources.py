"""Sources found for webhooks are remembered briefly, and only sources that exist."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.core.errors import NotFound
from banshui.core.vault import Vault
from banshui.demo.cast import S1
from banshui.sms.models import Source
from banshui.sms.sources import KnownSources, add_source


@dataclass
class Ticking:
    """A monotonic clock moved by hand."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Desk:
    db: Database
    vault: Vault
    clock: ManualClock
    ticking: Ticking
    known: KnownSources

    async def add(self, name: str) -> Source:
        return await add_source(
            self.db, self.vault, self.clock,
            kind="smsforwarder", name=name, secret="zhang-phone-secret", number=S1,
        )  # fmt: skip

    async def move_to(self, name: str, number: str) -> None:
        """Change the source behind the cache's back, as another process would."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Source).where(Source.name == name).values(number=number)
            )


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    db = Database(database_url)
    ticking = Ticking()
    known = KnownSources(db, seconds=5, monotonic=ticking)
    clock = ManualClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    try:
        yield Desk(db, Vault(os.urandom(32)), clock, ticking, known)
    finally:
        await db.close()


async def test_a_source_is_remembered_for_its_seconds_then_read_again(
    desk: Desk,
) -> None:
    await desk.add("zhang-phone")
    assert (await desk.known.find("smsforwarder", "zhang-phone")).number == S1

    await desk.move_to("zhang-phone", "19912340009")
    desk.ticking.now += 4
    assert (await desk.known.find("smsforwarder", "zhang-phone")).number == S1

    desk.ticking.now += 2
    found = await desk.known.find("smsforwarder", "zhang-phone")
    assert found.number == "19912340009"


async def test_a_name_with_no_source_is_not_remembered(desk: Desk) -> None:
    with pytest.raises(NotFound):
        await desk.known.find("smsforwarder", "li-phone")

    await desk.add("li-phone")

    assert (await desk.known.find("smsforwarder", "li-phone")).name == "li-phone"


async def test_a_source_of_another_kind_is_not_found_under_this_one(
    desk: Desk,
) -> None:
    await desk.add("zhang-phone")

    with pytest.raises(NotFound):
        await desk.known.find("twilio", "zhang-phone")
