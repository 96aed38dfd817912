"""What the bench's parts share about the processes they start.

Each part starts a server of its own on a free loopback port and waits until it
answers ``/healthz``; a server that stops before it answers ends the part with
what it said.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 60.0


def free_port() -> int:
    """A loopback port nobody listens on (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bench_env(**extra: str) -> dict[str, str]:
    """This process's environment, with ``bench`` importable from the child."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(ROOT), env.get("PYTHONPATH", "")) if part
    )
    env.update(extra)
    return env


async def until_answering(url: str, stopped: Callable[[], str | None]) -> None:
    """Wait until ``url``/healthz answers 200.

    ``stopped`` says why the server is gone (or None while it runs): its words
    end the wait at once instead of at the time limit.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_SECONDS
    async with httpx.AsyncClient(timeout=1) as client:
        while loop.time() < deadline:
            gone = stopped()
            if gone is not None:
                raise RuntimeError(gone)
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not answer within {READY_SECONDS:g} s")
