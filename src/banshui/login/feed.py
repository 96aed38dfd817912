"""Live updates of login requests for server-sent events, in one process."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class LoginFeed:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    @asynccontextmanager
    async def subscribe(
        self, login_id: str
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self._queues[login_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[login_id].discard(queue)
            if not self._queues[login_id]:
                del self._queues[login_id]

    def publish(self, login_id: str, view: dict[str, Any]) -> None:
        for queue in self._queues.get(login_id, ()):
            # A subscriber that stopped reading loses updates, not the server.
            if not queue.full():
                queue.put_nowait(view)
