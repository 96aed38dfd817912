"""A query desk: the stack on a manual clock, the cast seeded, S1 with its PIN."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from banshui.core.clock import ManualClock
from banshui.demo.cast import S1, seed_banshui
from banshui.query.pins import set_pin
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source
from conftest import Stack, running_stack

# 10:00 in Asia/Shanghai.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PIN = "270415"
BUREAU = "12366"
LOGIN_SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作，有效期为5分钟。"

_identities = itertools.count(1)


@dataclass
class Desk:
    """banshui with 张三's S1 holding the PIN ``PIN``."""

    stack: Stack
    clock: ManualClock

    async def receive(self, text: str, sender: str = BUREAU, number: str = S1) -> None:
        """An SMS reaching the number, as its gateway would store it."""
        runtime = self.stack.runtime
        source = await find_source(runtime.db, "smsforwarder", "sim-s1")
        sms = ReceivedSms(
            sender=sender, text=text, identity=f"t{next(_identities)}", number=number
        )
        await runtime.inbox.store(source, Verified(None, ""), [sms])

    async def ask(
        self, pin: str, number: str = S1, client: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        http = client or self.stack.http
        return await http.post("/query", data={"number": number, "pin": pin})


@asynccontextmanager
async def open_desk(
    folder: Path, database_url: str, clock: ManualClock
) -> AsyncIterator[Desk]:
    """A banshui on that database; opened again, it finds what it left."""
    async with running_stack(folder, clock=clock, database_url=database_url) as stack:
        seeded = await seed_banshui(stack.runtime)
        if seeded.api_key is not None:  # the first time only
            await set_pin(stack.runtime.db, clock, S1, PIN, actor="test")
        yield Desk(stack, clock)


@pytest.fixture
async def desk(tmp_path: Path, database_url: str) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path, database_url, ManualClock(START)) as opened:
        yield opened
