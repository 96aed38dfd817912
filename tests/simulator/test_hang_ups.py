"""The simulator served alone: a client gone mid-body is no error of the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from banshui.serving import bound_socket
from banshui.simulator import SimConfig, create_app


@asynccontextmanager
async def served_alone() -> AsyncIterator[tuple[str, int]]:
    """The simulator on a socket of its own, as ``banshui sim`` serves it."""
    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    # No logging set up by uvicorn: its records reach the root logger and caplog.
    config = uvicorn.Config(
        create_app(SimConfig(delivery_delay_ms=1)),
        log_config=None,
        lifespan="on",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "the simulator stopped during start-up"
            await asyncio.sleep(0.01)
        yield host, port
    finally:
        server.should_exit = True
        await task
        sock.close()


async def hang_up_mid_body(host: str, port: int, path: str) -> None:
    """A POST announcing 1000 bytes of JSON, closed after sending a few."""
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    writer.write(head.encode() + b'{"channel": "')
    await writer.drain()
    await asyncio.sleep(0.3)  # the route is reading the body by now
    writer.close()
    await writer.wait_closed()
    # The server hears the hang-up at once; its route ends right after.
    await asyncio.sleep(0.5)
    assert await reader.read() == b""


async def test_a_client_gone_mid_body_logs_no_error_and_the_simulator_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with served_alone() as (host, port):
        with caplog.at_level(logging.DEBUG):
            await hang_up_mid_body(host, port, "/api/login/password")

        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
            answer = await client.get("/healthz")

    assert answer.status_code == 200
    loud = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert loud == []
    assert "Traceback" not in caplog.text
    # Heard, and answered by the one quiet handler.
    assert "client hung up during POST /api/login/password" in caplog.text
