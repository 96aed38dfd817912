"""A send cut short by a stop is not lost: the next start delivers it, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.forwarding.views import ForwardView, list_forwards
from forwarding.conftest import forwarding_stack, seed
from forwarding.receivers import Kit, Receiver


async def test_a_forward_left_sending_by_a_stop_is_delivered_once_after_restart(
    tmp_path: Path, clock: ManualClock, template: Path, kit: Kit, receiver: Receiver
) -> None:
    receiver.hold_next = True

    async with forwarding_stack(tmp_path, clock, template) as first:
        await seed(first.stack, clock, kit, receiver)
        await first.deliver()
        await asyncio.wait_for(receiver.held.wait(), 5)
        url = first.stack.settings.database_url

    assert [f.status for f in await _forwards(url)] == ["sending"]
    receiver.released.set()  # the cut-short request now answers nobody

    async with forwarding_stack(tmp_path, clock, template) as second:
        sent = await second.until("sent")

    assert len(receiver.accepted) == 1
    assert sent.attempts == 2


async def _forwards(url: str) -> list[ForwardView]:
    db = Database(url)
    try:
        return list(await list_forwards(db))
    finally:
        await db.close()
