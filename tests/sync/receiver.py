"""An ERP's webhook endpoint on a real 127.0.0.1 socket, checking what it gets.

It verifies banshui's signature with its own code, written from docs/api.md
rather than taken from ``banshui.signing``, so a mistake cannot hide by being
made the same way on both ends. It can be told to fail first, and it counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from banshui.serving import bound_socket

WINDOW_SECONDS = 300
PATH = "/erp/banshui-events?site=shenzhen"


@dataclass(frozen=True)
class Received:
    """An accepted delivery: which webhook (the signing key) and its body."""

    key: str
    body: dict[str, Any]


@dataclass
class Receiver:
    now: Callable[[], datetime]
    url: str = ""
    # The secret of each webhook id, as the ERP stored it when it subscribed.
    secrets: dict[str, str] = field(default_factory=dict)
    planned: list[Response] = field(default_factory=list)
    hold_next: bool = False
    held: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    requests: int = 0
    refused: list[str] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)

    def fail_next(self, *answers: Response) -> None:
        self.planned.extend(answers)

    def of(self, key: str) -> list[dict[str, Any]]:
        return [received.body for received in self.accepted if received.key == key]

    async def handle(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        if self.hold_next:
            self.hold_next = False
            self.held.set()
            await self.released.wait()
            return Response("gone", status_code=503)
        if self.planned:
            return self.planned.pop(0)

        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        problem = self._problem(request.headers, path, body)
        if problem is not None:
            self.refused.append(problem)
            return JSONResponse({"message": problem}, status_code=401)
        key = request.headers["x-banshui-key"]
        self.accepted.append(Received(key, json.loads(body)))
        return Response(status_code=204)

    def _problem(self, headers: Any, path: str, body: bytes) -> str | None:
        key = headers.get("x-banshui-key", "")
        stamp = headers.get("x-banshui-timestamp", "")
        nonce = headers.get("x-banshui-nonce", "")
        given = headers.get("x-banshui-signature", "")
        if key not in self.secrets or not stamp.isdigit() or not nonce:
            return "unsigned or unknown key"

        canonical = "\n".join(
            ["POST", path, stamp, nonce, hashlib.sha256(body).hexdigest()]
        )
        expected = hmac.new(
            self.secrets[key].encode(), canonical.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, given):
            return "bad signature"
        if abs(self.now().timestamp() - int(stamp)) > WINDOW_SECONDS:
            return "stale timestamp"
        if nonce in self.nonces:
            return "replayed nonce"
        self.nonces.add(nonce)
        return None


@asynccontextmanager
async def receiving(now: Callable[[], datetime]) -> AsyncIterator[Receiver]:
    receiver = Receiver(now=now)
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    receiver.url = f"http://{host}:{port}{PATH}"
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.005)
        yield receiver
    finally:
        receiver.released.set()
        server.should_exit = True
        await task
        sock.close()
