"""Live updates of login requests for server-sent events, from every process.

A change is put to this process's subscribers at once and told to the other
processes (on PostgreSQL), whose subscribers get the same login object: the
process following a login need not be the one serving it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from banshui.core.bells import Bells

logger = logging.getLogger(__name__)

TOPIC = "login"
# What a notification carries at most, with room for the bells' own header.
MESSAGE_BYTES = 7000


class LoginFeed:
    def __init__(self, bells: Bells | None = None) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._bells = bells if bells is not None else Bells()
        self._bells.on_message(TOPIC, self._told)

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
        self._put(login_id, view)
        self._bells.tell_others(TOPIC, _message(view))

    def _told(self, message: str) -> None:
        view = json.loads(message)
        if isinstance(view, dict) and isinstance(view.get("id"), str):
            self._put(view["id"], view)

    def _put(self, login_id: str, view: dict[str, Any]) -> None:
        for queue in self._queues.get(login_id, ()):
            # A subscriber that stopped reading loses updates, not the server.
            if not queue.full():
                queue.put_nowait(view)


def _message(view: dict[str, Any]) -> str:
    """The login object as text, its reason shortened to fit a notification."""
    text = json.dumps(view, ensure_ascii=False)
    excess = len(text.encode()) - MESSAGE_BYTES
    reason = view.get("reason")
    if excess <= 0 or not isinstance(reason, str):
        return text
    # A Chinese character is 3 bytes: cutting as many characters always fits.
    shortened = reason[: max(len(reason) - excess, 0)] + "…"
    return json.dumps({**view, "reason": shortened}, ensure_ascii=False)
