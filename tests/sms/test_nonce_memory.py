"""Used nonces are remembered for as long as they could be replayed, then forgotten."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.core.vault import Vault
from banshui.demo.cast import S1
from banshui.sms.gateways.base import ReceivedSms, SignatureRefused, Verified
from banshui.sms.inbox import Inbox
from banshui.sms.models import Source, UsedNonce
from banshui.sms.notify import CodeNotifier
from banshui.sms.sources import add_source
from banshui.sms.storing import NONCE_MEMORY

_identities = itertools.count(1)


@dataclass
class Desk:
    inbox: Inbox
    clock: ManualClock
    db: Database
    source: Source

    async def deliver(self, nonce: str, content: str = "same") -> None:
        sms = ReceivedSms(
            sender="12366",
            text="【顺丰】您的快件已签收。",
            identity=f"n{next(_identities)}",
        )
        await self.inbox.store(self.source, Verified(nonce, content), [sms])

    async def nonces(self) -> set[str]:
        async with self.db.session() as session:
            return set(await session.scalars(select(UsedNonce.nonce)))


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    db = Database(database_url)
    clock = ManualClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    source = await add_source(
        db, Vault(os.urandom(32)), clock,
        kind="smsforwarder", name="zhang-phone", secret="zhang-phone-secret", number=S1,
    )  # fmt: skip
    try:
        yield Desk(Inbox(db, clock, CodeNotifier()), clock, db, source)
    finally:
        await db.close()


async def test_a_nonce_older_than_its_replay_window_is_forgotten(desk: Desk) -> None:
    await desk.deliver("old-sign")
    desk.clock.advance((NONCE_MEMORY + timedelta(seconds=1)).total_seconds())

    await desk.deliver("new-sign")

    assert await desk.nonces() == {"new-sign"}


async def test_a_nonce_still_inside_its_window_is_kept_and_refused_again(
    desk: Desk,
) -> None:
    await desk.deliver("recent-sign")
    desk.clock.advance((NONCE_MEMORY - timedelta(minutes=2)).total_seconds())

    await desk.deliver("newer-sign")

    assert await desk.nonces() == {"recent-sign", "newer-sign"}
    with pytest.raises(SignatureRefused):
        await desk.deliver("recent-sign", content="other content")


def test_nonces_are_kept_for_two_of_the_longest_window_at_least() -> None:
    # SmsForwarder's window is ±600 s: a pair first seen at the window's start
    # can come back until its end, 1200 s later.
    assert timedelta(seconds=1200) <= NONCE_MEMORY
