"""A send cut short by a stop is not lost: the next start delivers it, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.forwarding.views import ForwardView, list_forwards
from banshui.forwarding.worker import SENDING_LEASE
from forwarding.conftest import forwarding_stack, seed
from forwarding.receivers import Kit, Receiver


async def test_a_forward_left_sending_by_a_stop_is_delivered_once_after_restart(
    tmp_path: Path, clock: ManualClock, database_url: str, kit: Kit, receiver: Receiver
) -> None:
    receiver.hold_next = True

    async with forwarding_stack(tmp_path, clock, database_url) as first:
        await seed(first.stack, clock, kit, receiver)
        await first.deliver()
        await asyncio.wait_for(receiver.held.wait(), 5)
        url = first.stack.settings.database_url

    assert [f.status for f in await _forwards(url)] == ["sending"]
    receiver.released.set()  # the cut-short request now answers nobody
    # On PostgreSQL another process may be mid-send: a row is taken back only
    # once its lease is over (SQLite, one process, takes back every row).
    clock.advance(SENDING_LEASE.total_seconds())

    async with forwarding_stack(tmp_path, clock, database_url) as second:
        sent = await second.until("sent")

    assert len(receiver.accepted) == 1
    assert sent.attempts == 2


async def _forwards(url: str) -> list[ForwardView]:
    db = Database(url)
    try:
        return list(await list_forwards(db))
    finally:
        await db.close()
