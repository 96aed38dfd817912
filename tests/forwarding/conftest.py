"""banshui on a real socket with 张三's sub-number S1 bound and forwarding.

SMS arrive the way they do in production: signed SmsForwarder requests to the
webhook. Time is a ManualClock: back-off is crossed by moving it, never by
sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import REGISTRY

from banshui.core.clock import ManualClock
from banshui.demo.cast import S1, S2
from banshui.forwarding.setup import add_channel, add_route
from banshui.forwarding.views import ForwardView, list_forwards
from banshui.forwarding.worker import Forwarder
from banshui.numbers.models import Number
from banshui.sms.sources import add_source
from conftest import Stack, running_stack
from forwarding.receivers import BOUND_PHONE, KITS, Kit, Receiver, receiving

# 10:00 in Asia/Shanghai.
START = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
PHONE_SECRET = "zhangsan-redmi-forwarding-1f2e"
SENDER = "12366"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作。"
CHANNEL = "zhangsan-out"
_STAMPS = itertools.count(1)


def sms_sign(timestamp: int) -> str:
    message = f"{timestamp}\n{PHONE_SECRET}".encode()
    digest = hmac.new(PHONE_SECRET.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Forwarding:
    """The stack, its clock, and 张三's phone posting to its webhook."""

    stack: Stack
    clock: ManualClock

    @property
    def worker(self) -> Forwarder:
        return cast(Forwarder, self.stack.runtime.extras["forwarder"])

    async def deliver(
        self, text: str = SMS, source: str = "zhangsan-s1", stamp: int | None = None
    ) -> int:
        """One SMS through SmsForwarder's signed form, as the phone sends it.

        Each SMS gets its own timestamp (a used one with other content is a
        replay); the same ``stamp`` again is the app retrying the same request.
        """
        if stamp is None:
            stamp = int(self.clock.now().timestamp() * 1000) + next(_STAMPS)
        form = {
            "from": SENDER,
            "content": text,
            "org_content": text,
            "receive_time": f"2026-03-16 10:00:00.{stamp % 1000:03d}-{stamp}",
            "timestamp": str(stamp),
            "sign": sms_sign(stamp),
        }
        answer = await self.stack.http.post(
            f"/hooks/sms/smsforwarder/{source}", data=form
        )
        assert answer.status_code == 200, answer.text
        return stamp

    async def forwards(self, status: str | None = None) -> list[ForwardView]:
        return await list_forwards(self.stack.runtime.db, status)

    async def only_forward(self) -> ForwardView:
        found = await self.forwards()
        assert len(found) == 1, found
        return found[0]

    async def advance(self, seconds: float) -> None:
        """Move time on and ring the worker, as a due time passing would."""
        self.clock.advance(seconds)
        self.worker.wake()

    async def until(self, status: str, attempts: int | None = None) -> ForwardView:
        """The one forward, once it has this status (and attempts)."""

        async def reached() -> bool:
            found = await self.forwards()
            return bool(found) and all(
                f.status == status and attempts in (None, f.attempts) for f in found
            )

        await eventually(reached)
        return await self.only_forward()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    """Wait (in real time, for other tasks) until ``check`` holds."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the database has no event
            await asyncio.sleep(0.01)


def counted(name: str, channel: str) -> float:
    return REGISTRY.get_sample_value(name, {"channel": channel}) or 0.0


async def seed(stack: Stack, clock: ManualClock, kit: Kit, receiver: Receiver) -> None:
    """张三's phone, and S1 forwarding through one channel of ``kit``'s kind."""
    await seed_phone(stack, clock)
    await add_channel(
        stack.runtime.db,
        stack.runtime.vault,
        clock,
        kind=kit.kind,
        name=CHANNEL,
        config=kit.config(receiver.url),
        secret=kit.secret,
    )
    await add_route(stack.runtime.db, clock, number=S1, channel_name=CHANNEL)


async def seed_phone(stack: Stack, clock: ManualClock) -> None:
    """S1 and S2 bound to 张三's real phone; his phone a source for each."""
    runtime = stack.runtime
    async with runtime.db.transaction() as session:
        session.add(Number(msisdn=S1, bound_phone=BOUND_PHONE, created_at=clock.now()))
        session.add(Number(msisdn=S2, bound_phone=BOUND_PHONE, created_at=clock.now()))
    for number, name in ((S1, "zhangsan-s1"), (S2, "zhangsan-s2")):
        await add_source(
            runtime.db,
            runtime.vault,
            clock,
            kind="smsforwarder",
            name=name,
            secret=PHONE_SECRET,
            number=number,
        )


@asynccontextmanager
async def forwarding_stack(
    folder: Path, clock: ManualClock, database_url: str
) -> AsyncIterator[Forwarding]:
    """banshui on that database, without the simulator."""
    async with running_stack(
        folder, clock=clock, database_url=database_url, simulator="off"
    ) as stack:
        yield Forwarding(stack, clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=list(KITS))
def kit(request: pytest.FixtureRequest) -> Kit:
    return KITS[str(request.param)]


@pytest.fixture
async def receiver(kit: Kit, clock: ManualClock) -> AsyncIterator[Receiver]:
    async with receiving(kit, clock.now) as running:
        yield running


@pytest.fixture
async def forwarding(
    tmp_path: Path, clock: ManualClock, database_url: str, kit: Kit, receiver: Receiver
) -> AsyncIterator[Forwarding]:
    async with forwarding_stack(tmp_path, clock, database_url) as running:
        await seed(running.stack, clock, kit, receiver)
        yield running
