"""A restart after a crash or a stop sends no forward twice and loses none.

A forward its worker left on the wire may or may not have arrived: after the
restart it is failed as interrupted, counted and shown, and sent again only when
an operator retries it. One the worker had claimed but not yet sent is sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.responses import Response

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.forwarding.queue import INTERRUPTED, claim_due, retry_forward
from banshui.forwarding.views import ForwardView, list_forwards
from banshui.forwarding.worker import SENDING_LEASE
from forwarding.conftest import CHANNEL, counted, forwarding_stack, seed
from forwarding.receivers import Kit, Receiver

FAILED = "banshui_forwards_failed_total"


async def test_a_forward_on_the_wire_at_a_stop_is_failed_after_restart_not_resent(
    tmp_path: Path, clock: ManualClock, database_url: str, kit: Kit, receiver: Receiver
) -> None:
    receiver.hold_next = True

    async with forwarding_stack(tmp_path, clock, database_url) as first:
        await seed(first.stack, clock, kit, receiver)
        await first.deliver()
        await asyncio.wait_for(receiver.held.wait(), 5)
        url = first.stack.settings.database_url

    [left] = await _forwards(url)
    assert (left.status, left.attempts) == ("sending", 1)
    receiver.released.set()  # the cut-short request now answers nobody
    failed_before = counted(FAILED, CHANNEL)
    # On PostgreSQL another process may be mid-send: a row is taken back only
    # once its lease is over (SQLite, one process, takes back every row).
    clock.advance(SENDING_LEASE.total_seconds())

    async with forwarding_stack(tmp_path, clock, database_url) as second:
        failed = await second.until("failed")
        # Time passing and the worker looking again change nothing.
        await second.advance(3600)
        await asyncio.sleep(0.2)
        still = await second.only_forward()

    assert failed.last_error == INTERRUPTED
    assert failed.attempts == 1
    assert (still.status, still.attempts) == ("failed", 1)
    assert receiver.requests == 1, "the forward went on the wire a second time"
    assert receiver.accepted == []
    assert counted(FAILED, CHANNEL) == failed_before + 1


@pytest.mark.parametrize("kit", ["webhook"], indirect=True)
async def test_an_operator_retrying_an_interrupted_forward_sends_it_once(
    tmp_path: Path, clock: ManualClock, database_url: str, kit: Kit, receiver: Receiver
) -> None:
    receiver.hold_next = True
    async with forwarding_stack(tmp_path, clock, database_url) as first:
        await seed(first.stack, clock, kit, receiver)
        await first.deliver()
        await asyncio.wait_for(receiver.held.wait(), 5)
    receiver.released.set()
    clock.advance(SENDING_LEASE.total_seconds())

    async with forwarding_stack(tmp_path, clock, database_url) as second:
        failed = await second.until("failed")
        await retry_forward(second.stack.runtime.db, clock, failed.id)
        second.worker.wake()
        sent = await second.until("sent")

    assert sent.attempts == 1  # counted afresh by the retry
    assert len(receiver.accepted) == 1


@pytest.mark.parametrize("kit", ["webhook"], indirect=True)
async def test_a_forward_claimed_but_not_yet_sent_by_a_dead_worker_is_sent_once(
    tmp_path: Path, clock: ManualClock, database_url: str, kit: Kit, receiver: Receiver
) -> None:
    receiver.fail_next(Response("busy", status_code=503))
    async with forwarding_stack(tmp_path, clock, database_url) as first:
        await seed(first.stack, clock, kit, receiver)
        await first.deliver()
        await first.until("due", attempts=1)
        url = first.stack.settings.database_url

    # A worker claims it once its back-off is over, and dies before it sends.
    clock.advance(60)
    db = Database(url)
    try:
        assert len(await claim_due(db, clock, 10)) == 1
    finally:
        await db.close()
    clock.advance(SENDING_LEASE.total_seconds())

    async with forwarding_stack(tmp_path, clock, database_url) as second:
        sent = await second.until("sent")

    assert sent.attempts == 3  # the 503, the dead worker's claim, this send
    assert receiver.requests == 2
    assert len(receiver.accepted) == 1


async def _forwards(url: str) -> list[ForwardView]:
    db = Database(url)
    try:
        return list(await list_forwards(db))
    finally:
        await db.close()
