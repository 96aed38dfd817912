"""Deliveries are in the database: a restart neither loses nor repeats one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.responses import Response

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.sync.queue import DeliveryView, deliveries_of
from banshui.sync.worker import DELAYS, SENDING_LEASE
from registry import flows
from registry.cast import WANG_WU, E, fresh_number
from sync.conftest import Caller, Sync, eventually, sync_stack
from sync.receiver import Receiver


async def _account_created(sync: Sync) -> tuple[Caller, str]:
    caller = await sync.tenant()
    webhook = await sync.subscribe(caller, ["account.created"])
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    await flows.account(caller.http, E.tax_id, number)
    return caller, webhook["id"]


async def test_a_delivery_waiting_for_its_retry_is_sent_after_a_restart(
    tmp_path: Path, clock: ManualClock, database_url: str, receiver: Receiver
) -> None:
    receiver.fail_next(Response("down for the night", status_code=503))
    async with sync_stack(tmp_path, clock, database_url, receiver) as first:
        caller, webhook = await _account_created(first)
        await first.until(caller, webhook, "due", attempts=1)
        url = first.stack.settings.database_url

    clock.advance(DELAYS[0] * 1.2)
    async with sync_stack(tmp_path, clock, database_url, receiver):
        await _until_delivered(url, webhook)

    assert len(receiver.of(webhook)) == 1
    assert receiver.requests == 2


async def test_a_delivery_cut_short_by_a_stop_is_sent_once_after_restart(
    tmp_path: Path, clock: ManualClock, database_url: str, receiver: Receiver
) -> None:
    receiver.hold_next = True
    async with sync_stack(tmp_path, clock, database_url, receiver) as first:
        _caller, webhook = await _account_created(first)
        await asyncio.wait_for(receiver.held.wait(), 5)
        url = first.stack.settings.database_url

    assert [d.status for d in await _deliveries(url, webhook)] == ["sending"]
    receiver.released.set()  # the cut-short request now answers nobody
    # On PostgreSQL another process may be mid-send: a row is taken back only
    # once its lease is over (SQLite, one process, takes back every row).
    clock.advance(SENDING_LEASE.total_seconds())

    async with sync_stack(tmp_path, clock, database_url, receiver):
        await _until_delivered(url, webhook)

    (done,) = await _deliveries(url, webhook)
    assert len(receiver.of(webhook)) == 1
    assert done.attempts == 2


async def _until_delivered(url: str, webhook: str) -> None:
    async def delivered() -> bool:
        return [d.status for d in await _deliveries(url, webhook)] == ["delivered"]

    await eventually(delivered)


async def _deliveries(url: str, webhook: str) -> list[DeliveryView]:
    """Read apart from any running app, as an operator would after a stop."""
    db = Database(url)
    try:
        return list(await deliveries_of(db, webhook))
    finally:
        await db.close()
