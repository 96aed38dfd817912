"""One log line per HTTP request: method, path, status and duration, no query.

uvicorn's own access log prints the query string, and a gateway calling a
webhook by GET carries its SMS, code and signature there: ``banshui serve``
switches uvicorn's off and logs through this instead.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banshui.printable import printable

logger = logging.getLogger("banshui.access")


class AccessLog:
    """ASGI middleware: logs each HTTP request once its answer has been sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            milliseconds = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %d %.1f ms",
                scope["method"],
                printable(scope["path"]),
                status,
                milliseconds,
            )


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging set-up, with banshui's access log on its handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["banshui.access"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
