"""A server killed with SIGKILL mid-load loses no acknowledged SMS, sends none twice.

A phone's SmsForwarder (its own process) sends signed SMS while ``banshui serve``
(its own process, one SQLite file) is killed several times and started again.
Afterwards every SMS that got a 2xx is stored exactly once, and its one forward
to a receiver on 127.0.0.1 is ``sent``, and then delivered exactly once, or
``failed`` as interrupted: it was on the wire when a kill came, so it may or
may not have arrived, and it is not sent again. A forward claimed but not yet
on the wire is sent after the restart. The receiver never sees an SMS twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from banshui.core.db import Database
from banshui.core.migrate import upgrade
from banshui.demo.cast import S1
from banshui.forwarding.models import Forward
from banshui.forwarding.queue import INTERRUPTED
from banshui.forwarding.setup import add_channel, add_route
from banshui.forwarding.worker import BATCH
from banshui.numbers.models import Number
from banshui.runtime import build_runtime
from banshui.sms.models import InboundSms
from banshui.sms.sources import add_source
from forwarding.receivers import WEBHOOK, Receiver, receiving
from security.conftest import Scale
from security.served import Served

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

PHONE_SECRET = "crash-test-phone-secret-7d1e"
SOURCE = "crash-phone"
CHANNEL = "crash-out"
TESTS = Path(__file__).resolve().parents[1]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving(WEBHOOK, lambda: datetime.now(UTC)) as running:
        yield running


async def prepare(served: Served, receiver: Receiver) -> None:
    """A migrated database: S1, its phone as a source, forwarding to the receiver."""
    await asyncio.to_thread(upgrade, served.database_url)
    runtime = build_runtime(served.settings())
    db, vault, clock = runtime.db, runtime.vault, runtime.clock
    try:
        async with db.transaction() as session:
            session.add(Number(msisdn=S1, created_at=clock.now()))
        await add_source(
            db, vault, clock, kind="smsforwarder", name=SOURCE,
            secret=PHONE_SECRET, number=S1,
        )  # fmt: skip
        await add_channel(
            db, vault, clock, kind="webhook", name=CHANNEL,
            config=WEBHOOK.config(receiver.url), secret=WEBHOOK.secret,
        )  # fmt: skip
        await add_route(db, clock, number=S1, channel_name=CHANNEL)
    finally:
        await runtime.close()


async def stored_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count(InboundSms.id))) or 0)


async def until(db: Database, count: int, load: asyncio.subprocess.Process) -> None:
    """Until ``count`` SMS are stored, or the load has finished."""
    while await stored_count(db) < count and load.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(0.02)  # the other process's commits ring no bell here


async def until_forwards_settle(db: Database, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while True:
            async with db.session() as session:
                unsettled = await session.scalar(
                    select(func.count(Forward.id)).where(
                        Forward.status.not_in(("sent", "failed"))
                    )
                )
            if not unsettled:
                return
            await asyncio.sleep(0.1)


async def start_load(
    served: Served, count: int, out: Path
) -> asyncio.subprocess.Process:
    url = f"{served.url}/hooks/sms/smsforwarder/{SOURCE}"
    arguments = ["--count", str(count), "--concurrency", "8", "--out", str(out)]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "security.sms_load", url, PHONE_SECRET, *arguments,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
    )  # fmt: skip


async def test_every_acknowledged_sms_survives_sigkill_once_and_is_forwarded(
    tmp_path: Path, scale: Scale, receiver: Receiver
) -> None:
    count, kills = scale.pick((60, 1), (1500, 5))
    served = Served(tmp_path)
    await prepare(served, receiver)
    db = Database(served.database_url)
    out = tmp_path / "load.jsonl"
    try:
        await served.start()
        load = await start_load(served, count, out)
        # Each kill once a further share of the load is stored: mid-stream.
        for kill in range(1, kills + 1):
            await until(db, count * kill // (kills + 1), load)
            await served.kill()
            await served.start()
        assert await asyncio.wait_for(load.wait(), 180) == 0
        await until_forwards_settle(db, 60)
        await served.stop()

        sent = [json.loads(line) for line in out.read_text().splitlines()]
        acked = {item["text"] for item in sent if item["acked"]}
        async with db.session() as session:
            rows = list(await session.execute(select(InboundSms.id, InboundSms.text)))
            forwards = list(
                await session.execute(
                    select(
                        Forward.sms_id,
                        Forward.status,
                        Forward.last_error,
                        Forward.in_flight_at,
                    )
                )
            )
    finally:
        await served.stop()
        await db.close()

    assert served.starts == kills + 1
    assert len(acked) == count, "the load gave up on SMS the server never took"
    stored = Counter(text for _, text in rows)
    assert set(stored) == acked
    assert max(stored.values()) == 1, "an SMS was stored twice"

    # One forward per SMS, each sent or given up on, none left behind.
    assert sorted(forward.sms_id for forward in forwards) == sorted(i for i, _ in rows)
    statuses = {forward.sms_id: forward.status for forward in forwards}
    assert set(statuses.values()) <= {"sent", "failed"}
    delivered = Counter(int(d.body["id"]) for d in receiver.accepted)
    texts = dict(rows)
    assert all(d.text == texts[int(d.body["id"])] for d in receiver.accepted)

    # Never twice: what is sent arrived once; what may have arrived is failed.
    assert max(delivered.values(), default=1) == 1, "an SMS was forwarded twice"
    sent_ids = {sms_id for sms_id, status in statuses.items() if status == "sent"}
    failed = [forward for forward in forwards if forward.status == "failed"]
    assert sent_ids <= set(delivered)
    assert set(delivered) <= sent_ids | {forward.sms_id for forward in failed}

    # Only a kill fails a forward here, and only one that was on the wire.
    assert all(forward.last_error == INTERRUPTED for forward in failed)
    assert all(forward.in_flight_at is not None for forward in failed)
    assert len(failed) <= kills * BATCH
