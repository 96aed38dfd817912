"""Under thousands of webhooks and login requests at once, nothing is lost.

``banshui serve`` runs as its own process on 127.0.0.1 (no simulator: the
logins fail at the bureau, which is not the point here). Signed SMS and login
requests arrive many at a time while ``/healthz`` is asked every tenth of a
second. Every SMS acknowledged is stored once, every login request accepted can
be read back, the server answers ``/healthz`` throughout, and its resident
memory (``/proc/PID/status``) stays bounded. Bounded in count and time; a few
hundred requests in ``make test``, thousands in ``make check``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from banshui.core.db import Database
from banshui.core.migrate import upgrade
from banshui.demo.cast import S1, A, B, C, seed_banshui
from banshui.login.models import LoginRequest
from banshui.runtime import build_runtime
from banshui.sms.models import InboundSms
from banshui.sms.sources import add_source
from security.conftest import Scale
from security.served import Served
from security.wire import now_ms, smsforwarder

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

PHONE_SECRET = "load-test-phone-secret-3c9a"
# Generous: the point is that memory does not grow with the requests served.
RSS_GROWTH_LIMIT = 200 * 1024 * 1024
# Clients at once, each with its own connection (a pool of thousands waiting
# on one client is slow in the client, not the server).
CONNECTIONS = 64


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes, as the kernel reports it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for {pid}")


async def prepare(served: Served) -> str:
    """The demo cast and a phone for S1; the demo tenant's API key."""
    await asyncio.to_thread(upgrade, served.database_url)
    runtime = build_runtime(served.settings())
    try:
        seeded = await seed_banshui(runtime)
        await add_source(
            runtime.db, runtime.vault, runtime.clock, kind="smsforwarder",
            name="load-phone", secret=PHONE_SECRET, number=S1,
        )  # fmt: skip
    finally:
        await runtime.close()
    assert seeded.api_key is not None
    return seeded.api_key


class Watch:
    """Asks /healthz and reads the server's RSS until told to stop."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.answers: Counter[int | str] = Counter()
        self.peak = rss(served.pid)
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.served.url, timeout=10) as http:
            while not self.stopped.is_set():
                try:
                    self.answers[(await http.get("/healthz")).status_code] += 1
                except httpx.TransportError as error:
                    self.answers[type(error).__name__] += 1
                self.peak = max(self.peak, rss(self.served.pid))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopped.wait(), 0.1)


async def send_sms(http: httpx.AsyncClient, *, url: str, index: int, base: int) -> str:
    text = f"【测试】负载第{index}条，验证码 {200000 + index}。"
    request = smsforwarder(url, PHONE_SECRET, text, stamp=base + index)
    answer = await http.post(url, content=request.content, headers=request.headers)
    return text if answer.status_code == 200 else ""


async def ask_login(http: httpx.AsyncClient, *, key: str, index: int) -> str:
    tax_id = (A, B, C)[index % 3].tax_id
    answer = await http.post(
        "/api/v1/logins",
        json={"tax_id": tax_id, "business": "receive"},
        headers={"authorization": f"Bearer {key}"},
    )
    return str(answer.json()["id"]) if answer.status_code == 202 else ""


Job = Callable[[httpx.AsyncClient], Awaitable[str]]


async def run_at_once(base_url: str, jobs: list[Job]) -> list[str]:
    """Every job, CONNECTIONS at a time, each on a connection of its own."""
    results = [""] * len(jobs)
    pending = iter(enumerate(jobs))

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            for index, job in pending:
                results[index] = await job(http)

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return results


async def test_thousands_at_once_lose_nothing_and_health_answers_throughout(
    tmp_path: Path, scale: Scale
) -> None:
    webhooks, logins = scale.pick((150, 50), (3000, 1000))
    served = Served(tmp_path)
    key = await prepare(served)
    url = f"{served.url}/hooks/sms/smsforwarder/load-phone"
    db = Database(served.database_url)
    try:
        await served.start()
        baseline = rss(served.pid)
        watch = Watch(served)
        watching = asyncio.create_task(watch.run())
        base = now_ms()
        jobs = [
            *(partial(send_sms, url=url, index=n, base=base) for n in range(webhooks)),
            *(partial(ask_login, key=key, index=n) for n in range(logins)),
        ]
        async with asyncio.timeout(300):
            results = await run_at_once(served.url, jobs)
        watch.stopped.set()
        await watching
        acked = [text for text in results[:webhooks] if text]
        accepted = [login_id for login_id in results[webhooks:] if login_id]
        async with db.session() as session:
            stored = Counter(await session.scalars(select(InboundSms.text)))
            found = await session.scalar(
                select(func.count(LoginRequest.id)).where(LoginRequest.id.in_(accepted))
            )
    finally:
        await served.stop()
        await db.close()

    assert len(acked) == webhooks and len(accepted) == logins
    assert stored == Counter(acked)
    assert found == len(accepted)
    assert set(watch.answers) == {200} and watch.answers[200] >= 3, watch.answers
    assert watch.peak - baseline < RSS_GROWTH_LIMIT, (baseline, watch.peak)
