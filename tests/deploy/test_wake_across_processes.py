"""A login waiting here for its code wakes when another process stores the SMS.

The webhook runs in a ``banshui serve`` process of its own; the waiter here
parks in ``inbox.wait_for_code`` as the engine's login does. Nothing polls: the
waiter wakes by the database's notification (LISTEN/NOTIFY) or only at its
time-out. The real latency is measured by ``bench/handoff.py
--across-processes``; the bound here is generous, so a busy machine passes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest

from banshui.core.settings import Settings
from banshui.runtime import Runtime, build_runtime
from banshui.sms.sources import add_source

from .processes import Process, answering, environment, free_port, start, stop

pytestmark = pytest.mark.postgresql_only

NUMBER = "19912345678"
SOURCE = "wake-phone"
SECRET = "wake-phone-secret-8f2c"
WAIT_SECONDS = 10.0
# Well under the waiter's time-out, well over a busy machine's hand-off.
BOUND_SECONDS = 0.5
CODES = 5


async def test_a_waiter_wakes_when_another_process_stores_its_code(
    database_url: str, tmp_path: Path
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    runtime = build_runtime(_settings(database_url, key, tmp_path))
    await runtime.bells.start()
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=SOURCE,
        secret=SECRET,
        number=NUMBER,
        actor="test",
    )
    server = _serve(database_url, key, tmp_path)
    try:
        await answering(server, "/healthz")
        delays = [await _one_code(runtime, server) for _ in range(CODES)]
    finally:
        stop(server)
        await runtime.close()

    assert max(delays) < BOUND_SECONDS, delays


async def _one_code(runtime: Runtime, server: Process) -> float:
    """Seconds from the webhook's answer to the waiter holding the code."""
    expectation = await runtime.inbox.expect_code(NUMBER, "login:wake-test")
    held_at: list[float] = []

    async def wait() -> str | None:
        code = await runtime.inbox.wait_for_code(expectation, WAIT_SECONDS)
        held_at.append(time.perf_counter())
        return code

    waiter = asyncio.create_task(wait())
    for _ in range(1000):  # until it listens, a second at most
        if runtime.notifier.waiting(NUMBER):
            break
        await asyncio.sleep(0.001)
    code = f"{secrets.randbelow(10**6):06d}"
    async with httpx.AsyncClient(base_url=server.url or "", timeout=10) as gateway:
        answer = await gateway.post(
            f"/hooks/sms/smsforwarder/{SOURCE}",
            content=_body(f"【中国税务】您的登录验证码：{code}，请确认是本人操作。"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    acked = time.perf_counter()
    assert answer.status_code == 200, answer.text

    assert await waiter == code
    return max(0.0, held_at[0] - acked)


def _settings(url: str, key: str, folder: Path) -> Settings:
    return Settings(
        database_url=url,
        secret_key=key,
        var_dir=folder,
        simulator="off",
        sandbox="off",
        engine="off",
    )


def _serve(url: str, key: str, folder: Path) -> Process:
    port = free_port()
    env = environment(
        database_url=url,
        secret_key=key,
        var_dir=str(folder),
        simulator="off",
        sandbox="off",
        engine="off",
    )
    command = ["serve", "--port", str(port)]
    return start("serve", command, env, folder, f"http://127.0.0.1:{port}")


def _body(text: str) -> bytes:
    """SmsForwarder's default form, signed as docs/gateways.md says the app signs."""
    stamp = int(time.time() * 1000)
    received = time.strftime("%Y-%m-%d %H:%M:%S")
    content = "\n".join(["12366", text, f"SIM1_中国移动_{NUMBER}", received, "phone"])
    mac = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256)
    sign = quote(base64.b64encode(mac.digest()).decode(), safe="")
    fields = {"from": "12366", "content": content, "timestamp": str(stamp)}
    return (urlencode(fields) + "&sign=" + sign).encode()
