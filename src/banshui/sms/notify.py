"""Waking whoever waits for a number's code, the moment its SMS is stored."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class CodeNotifier:
    """In-process: ingest and waiters share one event loop."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)

    @asynccontextmanager
    async def listening(self, number: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters[number].add(event)
        try:
            yield event
        finally:
            self._waiters[number].discard(event)
            if not self._waiters[number]:
                del self._waiters[number]

    def notify(self, number: str) -> None:
        for event in self._waiters.get(number, ()):
            event.set()
