"""A client that hangs up while it sends its body is no error of the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from banshui.demo.cast import S1
from banshui.sms.models import InboundSms
from banshui.sms.sources import add_source
from conftest import Stack

# Where an error of a route ends up: banshui's handler, then uvicorn's own.
WATCHED = ("banshui", "uvicorn.error")


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def warnings_logged() -> Iterator[list[logging.LogRecord]]:
    """What is logged at warning or above, wherever the loggers propagate it."""
    kept = Kept()
    loggers = [logging.getLogger(name) for name in WATCHED]
    for logger in loggers:
        logger.addHandler(kept)
    try:
        yield kept.records
    finally:
        for logger in loggers:
            logger.removeHandler(kept)


async def hang_up_mid_body(stack: Stack, path: str, start_of_body: bytes) -> None:
    """A POST announcing 1000 bytes of form, closed after sending a few."""
    address = urlsplit(stack.url)
    assert address.hostname is not None and address.port is not None
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    writer.write(head.encode() + start_of_body)
    await writer.drain()
    await asyncio.sleep(0.3)  # the route is reading the body by now
    writer.close()
    await writer.wait_closed()
    # The server hears the hang-up at once; its route ends right after.
    await asyncio.sleep(0.5)
    assert await reader.read() == b""  # and it answered nothing


async def sms_count(stack: Stack) -> int:
    async with stack.runtime.db.session() as session:
        return int(await session.scalar(select(func.count(InboundSms.id))) or 0)


@pytest.mark.parametrize(
    "path",
    ["/hooks/sms/smsforwarder/zhangsan-redmi", "/login"],
    ids=["webhook", "console-sign-in"],
)
async def test_a_client_gone_mid_body_logs_no_error_and_stores_nothing(
    stack: Stack, path: str
) -> None:
    runtime = stack.runtime
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name="zhangsan-redmi",
        secret="zhangsan-redmi-7f3a9c1e",
        number=S1,
        actor="test",
    )

    with warnings_logged() as logged:
        await hang_up_mid_body(stack, path, b"from=12366&content=%E3%80%90")

    assert [record.getMessage() for record in logged] == []
    assert await sms_count(stack) == 0
    # The server goes on serving.
    assert (await stack.http.get("/healthz")).status_code == 200
