"""On PostgreSQL, workers in several processes never claim the same forward."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import pytest

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.forwarding.models import Forward, ForwardChannel, ForwardRoute
from banshui.forwarding.queue import claim_due
from banshui.sms.models import InboundSms, Source
from forwarding.conftest import START

pytestmark = pytest.mark.postgresql_only
FORWARDS = 40
NUMBER = "19912349999"


async def test_two_workers_claiming_at_once_share_the_queue_without_overlap(
    database_url: str,
) -> None:
    clock = ManualClock(START)
    one, two = Database(database_url), Database(database_url)
    try:
        tag = secrets.token_hex(4)
        mine = await _queue(one, clock, tag, FORWARDS)
        claims = await asyncio.gather(_claim_all(one, clock), _claim_all(two, clock))
    finally:
        await one.close()
        await two.close()

    counts = Counter(i for claimed in claims for i in claimed if i in mine)
    assert set(counts) == mine
    assert set(counts.values()) == {1}


async def _claim_all(db: Database, clock: ManualClock) -> list[int]:
    claimed: list[int] = []
    while batch := await claim_due(db, clock, 3):
        claimed.extend(batch)
        await asyncio.sleep(0)
    return claimed


async def _queue(db: Database, clock: ManualClock, tag: str, count: int) -> set[int]:
    """``count`` due forwards of one SMS each, through a fresh channel."""
    now = clock.now()
    async with db.transaction() as session:
        source = Source(
            kind="generic", name=f"pg-{tag}", secret_sealed="v1:x", created_at=now
        )
        channel = ForwardChannel(kind="wecom", name=f"pg-{tag}", created_at=now)
        session.add_all([source, channel])
        await session.flush()
        route = ForwardRoute(number=NUMBER, channel_id=channel.id, created_at=now)
        session.add(route)
        await session.flush()

        forwards = []
        for index in range(count):
            sms = InboundSms(
                source_id=source.id,
                dedupe_key=f"{tag}-{index}",
                number=NUMBER,
                sender="12366",
                text="通知",
                received_at=now,
                day=now.date(),
                kind="notice",
            )
            session.add(sms)
            await session.flush()
            forward = Forward(
                sms_id=sms.id,
                route_id=route.id,
                status="due",
                attempts=0,
                due_at=now,
                created_at=now,
            )
            session.add(forward)
            forwards.append(forward)
        await session.flush()
        return {forward.id for forward in forwards}
