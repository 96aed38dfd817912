"""A cap on request bodies, answered in the one error shape.

Starlette's own limit answers in plain text; this one answers as every other
error does, and refuses a body declared too large before reading any of it.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banshui.api.errors import error_response
from banshui.core.errors import BanshuiError


class BodyTooLarge(BanshuiError):
    status = 413
    code = "too_large"


class BodyLimit:
    """ASGI middleware: no request body larger than ``max_bytes`` is read whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = f"the body is larger than {max_bytes // 1024} KiB"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            refused = error_response(413, BodyTooLarge.code, self.message)
            await refused(scope, receive, send)
            return

        await self.app(scope, self._counted(receive), send)

    def _counted(self, receive: Receive) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                # Raised inside the route, so its error handler answers.
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.message)
            return message

        return limited
