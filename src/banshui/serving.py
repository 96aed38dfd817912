"""Running the server in this process on a real socket (demo and tests)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from banshui.core.settings import Settings


@dataclass(frozen=True, slots=True)
class Running:
    url: str
    app: FastAPI


def bound_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket, so the port is known before the app is made."""
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only when it sees it,
    # and without it every answer waits ~40 ms for Nagle.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@asynccontextmanager
async def serving(
    make_app: Callable[[Settings], FastAPI], settings: Settings, sock: socket.socket
) -> AsyncIterator[Running]:
    """Serve ``make_app(settings)`` on ``sock`` until the block ends."""
    app = make_app(settings)
    # No proxy headers here: the app believes only BANSHUI_TRUSTED_PROXIES.
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        access_log=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # start-up failed: raise its error here
                raise RuntimeError("the server stopped during start-up")
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        yield Running(url=f"http://{host}:{port}", app=app)
    finally:
        server.should_exit = True
        await task
        sock.close()
