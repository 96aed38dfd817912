"""Many processes on one PostgreSQL database: two ``serve``, a ``worker``, a ``sim``.

Business systems ask for logins through either API process and follow them
through the other; gateways post SMS to both; the bureau's SMS reach both. One
API process runs the engine, the other leaves it to the worker. Only the
database coordinates them, and what must hold for one process holds for all:
no lane is served twice at once, no code is asked for twice for one need, each
code is used once, and every acknowledged SMS is stored.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import random
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from sqlalchemy import func, select

from banshui.client import BanshuiClient
from banshui.core.db import Database
from banshui.core.settings import Settings
from banshui.login.models import EngineWorker, LoginRequest
from banshui.runtime import build_runtime
from banshui.sms.models import CodeExpectation, InboundSms

from .cast import Cast, add_gateway, make_cast, seed_banshui, seed_simulator
from .processes import Process, answering, environment, free_port, start, stop

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow]

# The simulator run apart answers its admin API only to this token.
SIM_TOKEN = "deploy-test-simulator-admin-token"
SIM_ADMIN = {"Authorization": f"Bearer {SIM_TOKEN}"}
PERSONS = 6
CLIENTS = 8
LOGINS_EACH = 20
GATEWAYS = 3
GATEWAY_SMS = 150
DUPLICATE_SHARE = 0.2
DROPS = 8


@dataclass
class Deployment:
    cast: Cast
    url: str
    sim: Process
    serving: list[Process]  # the first runs the engine, the second does not
    worker: Process
    gateway_numbers: list[str]

    @property
    def processes(self) -> list[Process]:
        return [self.sim, *self.serving, self.worker]


@dataclass
class Tally:
    logins: list[dict[str, Any]] = field(default_factory=list)
    acked: set[bytes] = field(default_factory=set)
    dropped: int = 0


@pytest.fixture
async def deployment(database_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    key = base64.b64encode(os.urandom(32)).decode()
    cast = make_cast(PERSONS)
    gateway_numbers = [f"199400000{k:02d}" for k in range(GATEWAYS)]

    sim_port, ports = free_port(), [free_port(), free_port()]
    sim_url = f"http://127.0.0.1:{sim_port}"
    shared = {
        "database_url": database_url,
        "secret_key": key,
        "simulator_url": sim_url,
        "sandbox": "off",
        "var_dir": str(tmp_path),
        "code_timeout_seconds": "20",
        # The suite shares the server's connections with other tests.
        "database_pool_size": "3",
        "database_max_overflow": "5",
    }
    sim = start(
        "sim",
        ["sim", "--port", str(sim_port)],
        environment(simulator_admin_token=SIM_TOKEN),
        tmp_path,
        sim_url,
    )
    serving = [
        start(
            f"serve-{n}",
            ["serve", "--port", str(port), *(["--no-engine"] if n else [])],
            environment(**shared),
            tmp_path,
            f"http://127.0.0.1:{port}",
        )
        for n, port in enumerate(ports)
    ]
    worker = start("worker", ["worker"], environment(**shared), tmp_path, None)
    made = Deployment(cast, database_url, sim, serving, worker, gateway_numbers)
    try:
        # While they start: nothing asks them anything before the cast is in.
        await _seed(database_url, key, tmp_path, cast, gateway_numbers)
        await answering(sim, "/admin/violations")
        for process in serving:
            await answering(process, "/healthz")
        await _engines_running(database_url, worker, count=2)
        async with httpx.AsyncClient(
            base_url=sim_url, timeout=30, headers=SIM_ADMIN
        ) as admin:
            await seed_simulator(admin, cast, [p.url or "" for p in serving])
        yield made
    finally:
        codes = {process.name: stop(process) for process in made.processes}
        print("\n".join(process.tail(15) for process in made.processes))
        # Stopped as a service manager stops them, each ends cleanly (uvicorn
        # ends by raising again the signal that stopped it).
        assert set(codes.values()) <= {0, -signal.SIGTERM}, codes


async def test_many_processes_on_one_database_keep_every_rule(
    deployment: Deployment,
) -> None:
    tally = Tally()
    servers = [p.url or "" for p in deployment.serving]
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=deployment.sim.url or "", timeout=30, headers=SIM_ADMIN
    ) as sim:
        # One failing stops them all, rather than leaving them to hang.
        async with asyncio.TaskGroup() as group:
            for n in range(CLIENTS):
                group.create_task(_client(n, deployment.cast, servers, sim, tally))
            for n in range(GATEWAYS):
                group.create_task(_gateway(n, deployment, servers, tally))
            group.create_task(_dropper(deployment.cast, sim, tally))
        violations = (await sim.get("/admin/violations")).json()
        outbox = (await sim.get("/admin/outbox")).json()["sms"]
    took = time.perf_counter() - started
    served_by = await _served_by(deployment)

    statuses = Counter(login["status"] for login in tally.logins)
    assert statuses == {"succeeded": CLIENTS * LOGINS_EACH}, statuses
    assert violations["total"] == 0, violations
    # Each SMS banshui caused is one a login counted; none beyond one a login.
    by_banshui = [sms for sms in outbox if sms["cause"] == "banshui"]
    used = [login["sms_used"] for login in tally.logins]
    assert set(used) <= {0, 1}
    assert len(by_banshui) == sum(used)
    # Fresh logins only where a lane had no live session: its first, or a drop.
    assert sum(used) <= len(deployment.cast.lanes()) + tally.dropped
    await _every_code_used_once(deployment, len(by_banshui))
    await _every_acknowledged_sms_stored(deployment, len(tally.acked))
    # Both engines served requests, whichever API process they were asked of.
    engine_pids = {deployment.serving[0].pid, deployment.worker.pid}
    assert set(served_by) == engine_pids, served_by
    assert all(count > 0 for count in served_by.values()), served_by
    print(f"{len(tally.logins)} logins and {len(tally.acked)} SMS in {took:.1f} s")


# The clients.


async def _client(
    n: int, cast: Cast, servers: list[str], sim: httpx.AsyncClient, tally: Tally
) -> None:
    """A business system: asks, follows through the other process, holds, releases."""
    rng = random.Random(n)
    async with AsyncExitStack() as stack:
        apis = [
            await stack.enter_async_context(BanshuiClient(url, cast.api_key))
            for url in servers
        ]
        for _ in range(LOGINS_EACH):
            asked, followed = rng.sample(apis, 2)
            firm = rng.choice(cast.firms)
            login = await asked.ask_login(firm.tax_id, "receive")
            async with asyncio.timeout(40):
                async for seen in followed.follow(login["id"]):
                    login = seen
            tally.logins.append(login)
            if login["status"] == "succeeded":
                await _use_and_release(rng, apis, sim, login["id"])


async def _use_and_release(
    rng: random.Random, apis: list[BanshuiClient], sim: httpx.AsyncClient, login_id: str
) -> None:
    """Hold the session at the bureau as an RPA would, then release the lease."""
    handed = await rng.choice(apis).session(login_id)
    token = handed["cookies"]["SIMSESSION"]
    held = await sim.post("/admin/leases", json={"session_token": token, "held": True})
    held.raise_for_status()
    await asyncio.sleep(rng.uniform(0, 0.02))
    await sim.post("/admin/leases", json={"session_token": token, "held": False})
    await rng.choice(apis).release(login_id)


async def _dropper(cast: Cast, sim: httpx.AsyncClient, tally: Tally) -> None:
    """The bureau drops sessions now and then: their next login is a fresh one."""
    rng = random.Random(99)
    for _ in range(DROPS):
        await asyncio.sleep(0.5)
        person = rng.choice(cast.persons)
        region = rng.choice(sorted({firm.region for firm in cast.firms}))
        body = {"id_number": person.id_number, "region": region}
        answer = await sim.post("/admin/sessions/drop", json=body)
        answer.raise_for_status()
        tally.dropped += int(answer.json()["dropped"])


async def _gateway(
    n: int, deployment: Deployment, servers: list[str], tally: Tally
) -> None:
    """A phone's SmsForwarder: notices and codes, some sent twice, to either server."""
    rng = random.Random(1000 + n)
    number = deployment.gateway_numbers[n]
    name, secret = deployment.cast.sources[number]
    sent: list[bytes] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for index in range(GATEWAY_SMS // GATEWAYS):
            again = sent and rng.random() < DUPLICATE_SHARE
            body = rng.choice(sent) if again else _sms(number, secret, index, rng)
            sent.append(body)
            url = f"{rng.choice(servers)}/hooks/sms/smsforwarder/{name}"
            answer = await http.post(url, content=body, headers=_FORM)
            assert answer.status_code == 200, answer.text
            tally.acked.add(body)


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _sms(number: str, secret: str, index: int, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        text = f"【电子税务局】您有一条新的税务事项通知（第{index}号），请及时查看。"
    else:
        code = f"{rng.randrange(10**6):06d}"
        text = f"【中国税务】您的登录验证码：{code}，请确认是本人操作。"
    stamp = int(time.time() * 1000)
    received = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp / 1000))
    content = "\n".join(
        ["12366", text, f"SIM1_中国移动_{number}", received, f"phone-{index}"]
    )
    mac = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
    sign = quote(base64.b64encode(mac.digest()).decode(), safe="")
    fields = {"from": "12366", "content": content, "timestamp": str(stamp)}
    return (urlencode(fields) + "&sign=" + sign).encode()


# What the database shows afterwards.


async def _seed(
    url: str, key: str, folder: Path, cast: Cast, gateway_numbers: list[str]
) -> None:
    settings = Settings(
        database_url=url,
        secret_key=key,
        var_dir=folder,
        simulator="off",
        sandbox="off",
    )
    runtime = build_runtime(settings)
    try:
        await seed_banshui(runtime, cast)
        for number in gateway_numbers:
            await add_gateway(runtime, cast, number)
    finally:
        await runtime.close()


async def _engines_running(url: str, worker: Process, count: int) -> None:
    db = Database(url)
    try:
        async with asyncio.timeout(40):
            while True:
                if worker.popen.poll() is not None:
                    raise RuntimeError(f"the worker stopped\n{worker.tail()}")
                async with db.session() as session:
                    running = await session.scalar(
                        select(func.count()).select_from(EngineWorker)
                    )
                if running == count:
                    return
                await asyncio.sleep(0.1)
    finally:
        await db.close()


async def _served_by(deployment: Deployment) -> dict[int, int]:
    """How many requests each engine process claimed, by process id."""
    db = Database(deployment.url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(EngineWorker.name, func.count(LoginRequest.id))
                .join(LoginRequest, LoginRequest.worker_id == EngineWorker.id)
                .group_by(EngineWorker.name)
            )
            return {int(name.rsplit(":", 1)[1]): count for name, count in rows}
    finally:
        await db.close()


async def _every_code_used_once(deployment: Deployment, sent: int) -> None:
    numbers = [n for p in deployment.cast.persons for n in p.numbers]
    db = Database(deployment.url)
    try:
        async with db.session() as session:
            codes = list(
                await session.scalars(
                    select(InboundSms).where(
                        InboundSms.number.in_(numbers), InboundSms.code.is_not(None)
                    )
                )
            )
            awaited = await session.scalar(
                select(func.count())
                .select_from(CodeExpectation)
                .where(
                    CodeExpectation.fulfilled.is_(False),
                    CodeExpectation.abandoned_at.is_(None),
                )
            )
    finally:
        await db.close()
    assert len(codes) == sent
    claims = Counter(sms.claimed_by for sms in codes)
    assert all(sms.expectation_id is not None for sms in codes)
    assert claims == {f"expectation:{sms.expectation_id}": 1 for sms in codes}
    assert awaited == 0


async def _every_acknowledged_sms_stored(deployment: Deployment, acked: int) -> None:
    db = Database(deployment.url)
    try:
        async with db.session() as session:
            stored = await session.scalar(
                select(func.count())
                .select_from(InboundSms)
                .where(InboundSms.number.in_(deployment.gateway_numbers))
            )
    finally:
        await db.close()
    assert stored == acked
