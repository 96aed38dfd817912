"""A tiny real webhook receiver, standing in for the target a gateway app posts to.

One server runs in its own thread for the whole test session; each test gets its
own hook path on it, so starting and stopping a server costs no test any time.
"""

import asyncio
import itertools
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    """One request as it came in: the path with its query, headers, raw body."""

    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    url: str
    posts: list[dict[str, str]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    refuse_next: int = 0

    async def wait_for(self, count: int) -> list[dict[str, str]]:
        """The posts received, once there are `count` of them (3 s at most)."""
        async with asyncio.timeout(3):
            while len(self.posts) < count:  # noqa: ASYNC110 - filled by another thread
                await asyncio.sleep(0.005)

        return self.posts


class GatewayServer:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.hooks: dict[str, Gateway] = {}
        self._numbers = itertools.count(1)

    def new_gateway(self) -> Gateway:
        name = f"g{next(self._numbers)}"
        gateway = Gateway(url=f"{self.base_url}/hook/{name}")
        self.hooks[name] = gateway
        return gateway

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook/{name}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> PlainTextResponse:
        gateway = self.hooks[request.path_params["name"]]
        received = await _received(request)
        if gateway.refuse_next > 0:
            gateway.refuse_next -= 1
            gateway.refused.append(received)
            return PlainTextResponse("busy", status_code=500)

        # Decoded here by hand, so the test trusts no form library of the sender's.
        form = received.body.decode()
        gateway.posts.append(dict(parse_qsl(form, keep_blank_values=True)))
        gateway.received.append(received)
        return PlainTextResponse("ok")


async def _received(request: Request) -> Received:
    target = request.scope["raw_path"].decode()
    if request.scope["query_string"]:
        target += "?" + request.scope["query_string"].decode()

    headers = {name.lower(): value for name, value in request.headers.items()}
    return Received(target, headers, await request.body())


@contextmanager
def running_server() -> Iterator[GatewayServer]:
    # IPPROTO_TCP spelled out: asyncio only sets TCP_NODELAY on sockets that say
    # so, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    receiver = GatewayServer(f"http://127.0.0.1:{sock.getsockname()[1]}")

    config = uvicorn.Config(receiver.app(), lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started:
        threading.Event().wait(0.005)

    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
