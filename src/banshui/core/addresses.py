"""Where a request comes from, for per-client limits and the audit log.

Behind a reverse proxy the socket's peer is the proxy (127.0.0.1 behind nginx).
Only a peer named in ``BANSHUI_TRUSTED_PROXIES`` is believed about
X-Forwarded-For, and then the address taken is the rightmost hop that is not
itself a trusted proxy: whatever stands to its left the client wrote itself.
uvicorn's ProxyHeadersMiddleware does exactly that; uvicorn's own default (trust
127.0.0.1) is switched off wherever banshui starts uvicorn, so that no proxy is
trusted unless it is named.

The limits count an IPv6 client by its /64, the block one host is usually given
and may pick any address of; the audit log and the access log keep the address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, cast

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

UNKNOWN = "unknown"
LENGTH = 64

# The address of the request being served, for audit entries written on its way.
_current: ContextVar[str | None] = ContextVar("banshui_client_address", default=None)


class ClientAddress:
    """ASGI middleware: resolves the client's address once, for every part."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str] = ()) -> None:
        self._app = app
        self._resolve: ASGIApp = self._remembered
        if trusted_proxies:
            self._resolve = cast(
                ASGIApp,
                ProxyHeadersMiddleware(
                    cast(Any, self._remembered), trusted_hosts=list(trusted_proxies)
                ),
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._resolve(scope, receive, send)

    async def _remembered(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        token = _current.set(str(peer[0])[:LENGTH] if peer else None)
        try:
            await self._app(scope, receive, send)
        finally:
            _current.reset(token)


def client_of(connection: HTTPConnection) -> str:
    """The client's address as ``ClientAddress`` resolved it."""
    peer = connection.client
    return peer.host[:LENGTH] if peer is not None else UNKNOWN


def counted_as(client: str) -> str:
    """The key a client's tries are counted by: its /64 for IPv6, else itself."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client  # UNKNOWN, or whatever else an ASGI server put there
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    # ::ffff:203.0.113.7 is the IPv4 client 203.0.113.7 reached over IPv6.
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


def current_client() -> str | None:
    """The address of the request this code runs for; None outside a request."""
    return _current.get()
