"""A client that hangs up: no error of the server, and nothing handed to nobody.

A client that closes its connection while it sends its body leaves the route
reading it with ``ClientDisconnect``: answered here, once for every route, with
a line in the log at debug level, not as a 500 and a traceback. A route that
waits long for something (a provider's claim of a code) watches for the hang-up
with ``watching``, so that it stops waiting and takes nothing for a client that
is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from banshui.api.errors import error_response

logger = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ClientDisconnect, _hung_up)  # type: ignore[arg-type]


async def _hung_up(request: Request, _error: ClientDisconnect) -> Response:
    logger.debug("client hung up during %s %s", request.method, request.url.path)
    # Nobody reads it: the server drops an answer to a closed connection.
    return error_response(400, "client_disconnected", "the client hung up")


@contextlib.asynccontextmanager
async def watching(request: Request) -> AsyncIterator[asyncio.Event]:
    """An event set the moment the client hangs up, for a request read whole.

    Only after the body has been read: what the server receives next is the
    hang-up (or the end of the answer, once it has been sent).
    """
    gone = asyncio.Event()

    async def listen() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone.set()

    listener = asyncio.create_task(listen())
    try:
        yield gone
    finally:
        listener.cancel()
        # Not awaited itself: a cancellation of this task must not be taken for
        # the listener's.
        await asyncio.wait({listener})
        failed = None if listener.cancelled() else listener.exception()
        if failed is not None:
            logger.debug("listening for a hang-up failed", exc_info=failed)
