"""Code hand-off: from the gateway's 2xx to the waiting login holding the code.

One process on SQLite: banshui serves on a real socket; a waiter parks in
``inbox.wait_for_code(expectation, 5)`` as the engine's login does; the gateway
(an httpx client) posts the SMS to the webhook. For each code the harness notes
when the post left, when its 2xx came back and when the waiter held the code.
The hand-off is ``held - acked``: a waiter that held its code before the 2xx
reached the gateway waited for nothing, and counts 0.

Beside it, in the same run, a poller that checks the inbox every second (what a
login without the wake-up would do) gives the baseline.

PostgreSQL: ``--database-url postgresql://...`` runs the same in one process.
``--across-processes`` (PostgreSQL only) puts the webhook in another process: a
``banshui serve`` started for the run stores each SMS, and the waiter here wakes
by the database's notification (LISTEN/NOTIFY), as a login in a ``banshui
worker`` does when a ``serve`` process received its code.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from banshui.app import create_app
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings
from banshui.runtime import Runtime, build_runtime
from banshui.serving import bound_socket, serving
from banshui.sms.sources import add_source
from bench import memory
from bench.processes import free_port, until_answering
from bench.smsforwarder import form_body, login_text

WAIT_SECONDS = 5.0
# Each code of a run its own, as the bureau's are: the same code to a number
# within half an hour is taken for a copy of the first, and handed to nobody.
_CODES = itertools.count(secrets.randbelow(500_000))
POLL_SECONDS = 1.0
FIRST_NUMBER = 19912350000


@dataclass(frozen=True, slots=True)
class Line:
    """One gateway phone: its source (webhook) and the number it receives on."""

    number: str
    path: str
    secret: str


@dataclass(frozen=True, slots=True)
class Timing:
    posted: float
    acked: float
    held: float

    @property
    def handoff_ms(self) -> float:
        return max(0.0, self.held - self.acked) * 1000

    @property
    def post_to_held_ms(self) -> float:
        return (self.held - self.posted) * 1000


Waiter = Callable[[Runtime, int, str], Awaitable[str | None]]


async def wake_waiter(runtime: Runtime, expectation: int, number: str) -> str | None:
    """The engine's way: parked until the SMS is stored, then claimed."""
    return await runtime.inbox.wait_for_code(expectation, WAIT_SECONDS)


async def polling_waiter(runtime: Runtime, expectation: int, number: str) -> str | None:
    """The baseline: look at the number's latest SMS once a second."""
    deadline = time.perf_counter() + WAIT_SECONDS
    while time.perf_counter() < deadline:
        for sms in await runtime.inbox.latest(number, limit=5):
            if sms.expectation_id == expectation and sms.code is not None:
                return sms.code
        await asyncio.sleep(POLL_SECONDS)
    return None


async def one_code(
    runtime: Runtime,
    gateway: httpx.AsyncClient,
    line: Line,
    waiter: Waiter,
    label: str,
    delay: float = 0.0,
) -> Timing:
    """Ask for a code, park a waiter, post the SMS (after ``delay``), time it."""
    expectation = await runtime.inbox.expect_code(line.number, label)
    held_at: list[float] = []

    async def wait() -> str | None:
        code = await waiter(runtime, expectation, line.number)
        held_at.append(time.perf_counter())
        return code

    task = asyncio.create_task(wait())
    await _parked(runtime, line.number, task, listens=waiter is wake_waiter)
    await asyncio.sleep(delay)

    code = f"{next(_CODES) % 1_000_000:06d}"
    body = form_body(login_text(code), line.number, line.secret)
    posted = time.perf_counter()
    answer = await gateway.post(line.path, content=body, headers=_FORM)
    acked = time.perf_counter()
    answer.raise_for_status()

    got = await task
    if got != code:
        raise RuntimeError(
            f"{label}: the waiter held {got!r}, not {code!r} ({answer.text})"
        )
    return Timing(posted, acked, held_at[0])


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _parked(
    runtime: Runtime, number: str, task: asyncio.Task[Any], listens: bool
) -> None:
    """Until the waiter listens for the number (read off the notifier), 1 s at most.

    The poller never listens: it is given 20 ms to make its first check.
    """
    if not listens:
        await asyncio.sleep(0.02)
        return
    for _ in range(1000):
        if task.done() or runtime.notifier.waiting(number):
            return
        await asyncio.sleep(0.001)


async def measure(
    runtime: Runtime, url: str, lines: list[Line], codes: int, baseline: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as gateway:
        for index in range(min(20, codes)):  # warm-up, not counted
            await one_code(runtime, gateway, lines[0], wake_waiter, f"warm:{index}")

        idle = memory.status()
        memory.reset_peak()
        woken = [
            await one_code(runtime, gateway, lines[0], wake_waiter, f"wake:{index}")
            for index in range(codes)
        ]
        polled = await _baseline(runtime, gateway, lines[1:], baseline)
        peak = memory.status()

    return {
        "handoff_p50_ms": _percentile([t.handoff_ms for t in woken], 50),
        "handoff_p99_ms": _percentile([t.handoff_ms for t in woken], 99),
        "handoff_max_ms": max(t.handoff_ms for t in woken),
        "post_to_held_p50_ms": _percentile([t.post_to_held_ms for t in woken], 50),
        "post_to_held_p99_ms": _percentile([t.post_to_held_ms for t in woken], 99),
        "held_before_ack": sum(t.held <= t.acked for t in woken),
        "codes": len(woken),
        "poll_baseline_p50_ms": _percentile([t.handoff_ms for t in polled], 50),
        "poll_baseline_p99_ms": _percentile([t.handoff_ms for t in polled], 99),
        "poll_baseline_codes": len(polled),
        "poll_seconds": POLL_SECONDS,
        "idle_rss_mb": idle["VmRSS"],
        "peak_rss_mb": peak["VmHWM"],
    }


async def _baseline(
    runtime: Runtime, gateway: httpx.AsyncClient, lines: list[Line], codes: int
) -> list[Timing]:
    """Pollers side by side, one per number, each SMS at a random moment."""
    rng = random.Random(7)
    timings: list[Timing] = []
    while len(timings) < codes:
        batch = lines[: codes - len(timings)]
        runs = [
            one_code(
                runtime,
                gateway,
                line,
                polling_waiter,
                f"poll:{len(timings)}:{index}",
                delay=rng.uniform(0, POLL_SECONDS - 0.02),
            )
            for index, line in enumerate(batch)
        ]
        timings.extend(await asyncio.gather(*runs))
    return timings


def _percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


async def across_processes(
    codes: int, baseline: int, database_url: str, folder: Path
) -> dict[str, Any]:
    """The waiter here, the webhook in a ``banshui serve`` of its own."""
    await asyncio.to_thread(upgrade, database_url)
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    port = free_port()
    settings = Settings(
        database_url=database_url,
        var_dir=folder,
        secret_key=key,
        public_url=f"http://127.0.0.1:{port}",
        simulator="off",
        sandbox="off",
        engine="off",
    )
    runtime = build_runtime(settings)
    server = None
    try:
        await runtime.bells.start()
        lines = await _lines(runtime, 1 + min(baseline, 20))
        server = _serve_apart(settings, port, folder)
        url = f"http://127.0.0.1:{port}"
        await until_answering(url, _stopped(server))
        result = await measure(runtime, url, lines, codes, baseline)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        await runtime.close()
    result["database"] = "postgresql"
    result["across_processes"] = True
    return result


def _stopped(server: subprocess.Popen[bytes]) -> Callable[[], str | None]:
    def said() -> str | None:
        if server.poll() is None:
            return None
        return f"the benchmark's banshui serve exited with {server.returncode}"

    return said


def _serve_apart(
    settings: Settings, port: int, folder: Path
) -> subprocess.Popen[bytes]:
    assert settings.secret_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")}
    env.update(
        BANSHUI_DATABASE_URL=settings.database_url,
        BANSHUI_SECRET_KEY=settings.secret_key.get_secret_value(),
        BANSHUI_VAR_DIR=str(folder),
        BANSHUI_SIMULATOR="off",
        BANSHUI_SANDBOX="off",
        BANSHUI_ENGINE="off",
    )
    banshui = str(Path(sys.executable).with_name("banshui"))
    log = (folder / "serve.log").open("wb")
    return subprocess.Popen(  # noqa: S603 - this venv's banshui, fixed arguments
        [banshui, "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


async def run(
    codes: int, baseline: int, database_url: str | None, folder: Path
) -> dict[str, Any]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    settings = Settings(
        database_url=database_url or f"sqlite:///{folder / 'banshui.db'}",
        var_dir=folder,
        public_url=f"http://127.0.0.1:{port}",
        simulator="off",
        sandbox="off",
    )

    def make(config: Settings) -> FastAPI:
        return create_app(config)

    async with serving(make, settings, sock) as running:
        runtime: Runtime = running.app.state.runtime
        lines = await _lines(runtime, 1 + min(baseline, 20))
        result = await measure(runtime, running.url, lines, codes, baseline)
    result["database"] = "postgresql" if database_url else "sqlite"
    return result


async def _lines(runtime: Runtime, count: int) -> list[Line]:
    lines = []
    for index in range(count):
        number = str(FIRST_NUMBER + index)
        secret = secrets.token_urlsafe(24)
        name = f"handoff-{index}"
        await add_source(
            runtime.db,
            runtime.vault,
            runtime.clock,
            kind="smsforwarder",
            name=name,
            secret=secret,
            number=number,
            actor="bench",
        )
        lines.append(Line(number, f"/hooks/sms/smsforwarder/{name}", secret))
    return lines


def cli(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.handoff", description=__doc__
    )
    parser.add_argument("--codes", type=int, default=300)
    parser.add_argument("--baseline", type=int, default=60)
    parser.add_argument("--database-url")
    parser.add_argument("--across-processes", action="store_true")
    parser.add_argument("--cpu", type=int, help="pin this process to one core")
    args = parser.parse_args(argv)

    if args.across_processes and not (args.database_url or "").startswith("postgresql"):
        sys.exit(
            "--across-processes needs --database-url postgresql://…: SQLite serves "
            "one process, so its waiters never wait on another"
        )
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory(prefix="banshui-handoff-") as folder:
        if args.across_processes:
            work = across_processes(
                args.codes, args.baseline, args.database_url, Path(folder)
            )
        else:
            work = run(args.codes, args.baseline, args.database_url, Path(folder))
        return asyncio.run(work)


def main() -> None:
    print(json.dumps(cli()))


if __name__ == "__main__":
    main()
