"""Where one webhook SMS's time goes: each step of the ingest path, measured alone.

``python -m bench.breakdown`` times, in one process (``--cpu N`` pins it), the
steps ``/hooks/sms/{kind}/{name}`` takes for one SmsForwarder SMS — opening the
source's secret, checking the signature, parsing, finding the source (in the
database, and as the webhook does, remembered), storing and committing, one
request at a time and eight at once (committed together) — and, beside them,
what the storage layer costs by itself: an empty session, one statement
through aiosqlite, and SQLite commits as ``synchronous=FULL`` and ``NORMAL``
make them. CPU and wall time per call (per SMS), in µs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiosqlite
from sqlalchemy import text

from banshui.core.settings import Settings
from banshui.runtime import Runtime, build_runtime
from banshui.sms.gateways.base import InboundRequest
from banshui.sms.gateways.registry import gateway_for
from banshui.sms.sources import SECRET_PURPOSE, KnownSources, find_source
from bench.server import NUMBER, SOURCE, seed_source
from bench.smsforwarder import form_body, login_text

SECRET = "bench-breakdown-secret-0123"


def _timed(calls: int, step: Callable[[int], object]) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(calls):
        step(index)
    return _per_call(calls, cpu, wall)


async def _timed_async(
    calls: int, step: Callable[[int], Awaitable[object]]
) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(calls):
        await step(index)
    return _per_call(calls, cpu, wall)


async def _timed_at_once(
    calls: int, at_once: int, step: Callable[[int], Awaitable[object]]
) -> dict[str, float]:
    """``calls`` steps, ``at_once`` of them running at any moment."""
    cpu, wall = time.process_time(), time.perf_counter()
    indexes = iter(range(calls))

    async def worker() -> None:
        for index in indexes:
            await step(index)

    await asyncio.gather(*(worker() for _ in range(at_once)))
    return _per_call(calls, cpu, wall)


def _per_call(calls: int, cpu: float, wall: float) -> dict[str, float]:
    return {
        "cpu_us": (time.process_time() - cpu) / calls * 1e6,
        "wall_us": (time.perf_counter() - wall) / calls * 1e6,
    }


def _requests(calls: int) -> list[InboundRequest]:
    base = int(time.time() * 1000)
    requests = []
    for index in range(calls):
        body = form_body(login_text(f"{index:06d}"), NUMBER, SECRET, base + index)
        form = dict(parse_qsl(body.decode()))
        requests.append(
            InboundRequest("POST", "http://bench", {}, {}, body, form, SOURCE)
        )
    return requests


async def _steps(runtime: Runtime, calls: int) -> dict[str, Any]:
    gateway = gateway_for("smsforwarder")
    source = await find_source(runtime.db, "smsforwarder", SOURCE)
    known = KnownSources(runtime.db)
    # Twice as many: the second half is stored eight at a time.
    requests = _requests(2 * calls)
    now = runtime.clock.now()
    verified = [gateway.verify(r, SECRET, now) for r in requests]
    parsed = [gateway.parse(r) for r in requests]

    async def store(index: int) -> object:
        return await runtime.inbox.store(source, verified[index], parsed[index])

    async def empty_session(_index: int) -> None:
        async with runtime.db.session() as session:
            await session.execute(text("SELECT 1"))

    return {
        "vault_open": _timed(
            calls, lambda _i: runtime.vault.open(source.secret_sealed, SECRET_PURPOSE)
        ),
        "verify_signature": _timed(
            calls, lambda i: gateway.verify(requests[i], SECRET, now)
        ),
        "parse": _timed(calls, lambda i: gateway.parse(requests[i])),
        "find_source": await _timed_async(
            calls, lambda _i: find_source(runtime.db, "smsforwarder", SOURCE)
        ),
        "find_source_remembered": await _timed_async(
            calls, lambda _i: known.find("smsforwarder", SOURCE)
        ),
        "inbox_store": await _timed_async(calls, store),
        "inbox_store_8_at_once": await _timed_at_once(
            calls, 8, lambda i: store(calls + i)
        ),
        "empty_session": await _timed_async(calls, empty_session),
    }


async def _one_statement(path: Path, calls: int) -> dict[str, float]:
    async with aiosqlite.connect(path) as connection:
        return await _timed_async(calls, lambda _i: connection.execute("SELECT 1"))


def _commits_per_s(folder: Path, synchronous: str, commits: int = 500) -> float:
    connection = sqlite3.connect(folder / f"commits-{synchronous}.db")
    connection.isolation_level = None
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    started = time.perf_counter()
    for _ in range(commits):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (v) VALUES (?)", ("x" * 200,))
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return commits / seconds


async def run(calls: int, folder: Path) -> dict[str, Any]:
    settings = Settings(
        database_url=f"sqlite:///{folder / 'banshui.db'}",
        var_dir=folder,
        simulator="off",
        sandbox="off",
    )
    await seed_source(settings, SECRET)
    runtime = build_runtime(settings)
    try:
        steps = await _steps(runtime, calls)
    finally:
        await runtime.close()
    steps["aiosqlite_statement"] = await _one_statement(folder / "banshui.db", calls)
    return {
        "calls": calls,
        "steps": steps,
        "sqlite_commits_per_s": {
            "FULL": _commits_per_s(folder, "FULL"),
            "NORMAL": _commits_per_s(folder, "NORMAL"),
        },
    }


def cli(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.breakdown", description=__doc__
    )
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cpu", type=int, help="pin this process to one core")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory(prefix="banshui-breakdown-") as folder:
        return asyncio.run(run(args.calls, Path(folder)))


def main() -> None:
    print(json.dumps(cli()))


if __name__ == "__main__":
    main()
