"""R3's day is the Asia/Shanghai calendar day, for codes asked and codes seen."""

from __future__ import annotations

import os
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from banshui.core.clock import SHANGHAI, ManualClock
from banshui.core.db import Database
from banshui.core.vault import Vault
from banshui.demo.cast import S1
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.inbox import Inbox
from banshui.sms.notify import CodeNotifier
from banshui.sms.sources import add_source

# A minute before midnight in 深圳: 15:59 UTC, the middle of the UTC day.
LAST_MINUTE = datetime(2026, 3, 14, 23, 59, tzinfo=SHANGHAI)
CODE_SMS = "【深圳税务】您的验证码是：418207（有效期为5分钟），请勿泄露。"


@dataclass
class Desk:
    inbox: Inbox
    clock: ManualClock
    db: Database
    vault: Vault


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    db = Database(database_url)
    clock = ManualClock(LAST_MINUTE)
    try:
        yield Desk(Inbox(db, clock, CodeNotifier()), clock, db, Vault(os.urandom(32)))
    finally:
        await db.close()


async def _a_code_nobody_asked_for(desk: Desk, identity: str) -> None:
    source = await add_source(
        desk.db,
        desk.vault,
        desk.clock,
        kind="smsforwarder",
        name=f"s1-{identity}",
        secret="zhangsan-s1-secret",
        number=S1,
    )
    # Each login by hand gets a code of its own (the same code again is a copy).
    code = f"{zlib.crc32(identity.encode()) % 1_000_000:06d}"
    text = CODE_SMS.replace("418207", code)
    sms = ReceivedSms(sender="12366", text=text, identity=identity)
    await desk.inbox.store(source, Verified(None, identity), [sms])


async def test_a_code_asked_for_at_2359_counts_for_that_day(desk: Desk) -> None:
    await desk.inbox.expect_code(S1, "login:before-midnight")
    desk.clock.advance(30)

    assert await desk.inbox.spent_today(S1) == 1


async def test_the_next_day_starts_from_zero_at_midnight_in_shanghai(
    desk: Desk,
) -> None:
    before = await desk.inbox.expect_code(S1, "login:before-midnight")
    await desk.inbox.wait_for_code(before, 0)  # its code never came
    desk.clock.advance(60)

    assert await desk.inbox.spent_today(S1) == 0
    await desk.inbox.expect_code(S1, "login:after-midnight")
    assert await desk.inbox.spent_today(S1) == 1


async def test_a_code_read_by_hand_counts_on_the_shanghai_day_it_arrived(
    desk: Desk,
) -> None:
    await _a_code_nobody_asked_for(desk, "before")
    assert await desk.inbox.spent_today(S1) == 1

    desk.clock.advance(60)
    await _a_code_nobody_asked_for(desk, "after")
    await _a_code_nobody_asked_for(desk, "after-again")

    assert await desk.inbox.spent_today(S1) == 2
