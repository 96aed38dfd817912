"""The load generator: a separate process posting signed SMS over loopback.

``python -m bench.load --url URL --path PATH --secret S --count N --seconds T``
posts up to N SmsForwarder requests, none started after T seconds, over C
keep-alive connections, each waiting for its answer
before the next (no pipelining), and prints one JSON object: how many were sent,
answered 2xx, stored, and how long it took. Every request is distinct (its own
timestamp, so its own signature, and its own code), so none is a duplicate.

Two clients: ``raw`` writes HTTP/1.1 on asyncio streams and is several times
cheaper per request than ``httpx``, so the load process is not what limits the
rate; ``httpx`` is the plain choice, kept to check the raw one against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.smsforwarder import form_body, login_text

# Requests are refused outside 127.0.0.0/8: load tests stay on this machine.
LOOPBACK = ("127.", "localhost", "[::1]")


@dataclass
class Tally:
    sent: int = 0
    ok: int = 0
    stored: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int, body: bytes) -> None:
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.ok += 1
            self.stored += _stored(body)


def _stored(body: bytes) -> int:
    try:
        return int(json.loads(body).get("stored", 0))
    except (ValueError, AttributeError):
        return 0


class Bodies:
    """Distinct signed bodies, made as they are needed (signing is cheap)."""

    def __init__(self, number: str, secret: str, first: int) -> None:
        self._number = number
        self._secret = secret
        self._next = first
        self._base_ms = int(time.time() * 1000)

    @property
    def next_index(self) -> int:
        return self._next

    def take(self) -> bytes:
        index = self._next
        self._next += 1
        code = f"{index % 1_000_000:06d}"
        # One millisecond apart: each request has its own (timestamp, sign) nonce.
        stamp = self._base_ms + index
        return form_body(login_text(code), self._number, self._secret, stamp)


class Budget:
    """At most ``count`` requests, and none started after ``seconds``."""

    def __init__(self, count: int, seconds: float) -> None:
        self._left = count
        self._until = time.perf_counter() + seconds

    def take(self) -> bool:
        if self._left <= 0 or time.perf_counter() >= self._until:
            return False
        self._left -= 1
        return True


async def run_raw(
    url: str, path: str, bodies: Bodies, budget: Budget, connections: int
) -> Tally:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tally = Tally()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while budget.take():
                body = bodies.take()
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                writer.write(head + body)
                status, answer = await _read_response(reader)
                tally.add(status, answer)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return tally


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_httpx(
    url: str, path: str, bodies: Bodies, budget: Budget, connections: int
) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=connections)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def connection() -> None:
            while budget.take():
                answer = await client.post(path, content=bodies.take(), headers=headers)
                tally.add(answer.status_code, answer.content)

        await asyncio.gather(*(connection() for _ in range(connections)))
    return tally


async def measure(args: argparse.Namespace) -> dict[str, object]:
    run = run_raw if args.client == "raw" else run_httpx
    bodies = Bodies(args.number, args.secret, args.first)
    warmed = Tally()
    if args.warmup:
        # Counted, not timed: however slow the machine, the warm-up completes.
        warm = Budget(args.warmup, seconds=60)
        warmed = await run(args.url, args.path, bodies, warm, args.connections)

    started = time.perf_counter()
    budget = Budget(args.count, args.seconds)
    tally = await asyncio.wait_for(
        run(args.url, args.path, bodies, budget, args.connections),
        args.seconds + 30,
    )
    seconds = time.perf_counter() - started
    return {
        "client": args.client,
        "path": args.path,
        "connections": args.connections,
        "sent": tally.sent,
        "ok": tally.ok,
        "stored": tally.stored,
        "warmup_stored": warmed.stored,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "seconds": seconds,
        "per_s": tally.ok / seconds if seconds > 0 else 0.0,
        "cpu": sorted(os.sched_getaffinity(0)),
        "next_index": bodies.next_index,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--number", required=True)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="first body index")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="start no request after this"
    )
    parser.add_argument("--cpu", type=int, help="pin this process to one core")
    args = parser.parse_args()

    host = urlsplit(args.url).hostname or ""
    if not host.startswith(LOOPBACK) and host != "localhost":
        sys.exit(f"refusing to load {host!r}: the benchmark only targets loopback")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    print(json.dumps(asyncio.run(measure(args))))


if __name__ == "__main__":
    main()
