"""Waking whoever waits for a number's code, the moment its SMS is stored.

In one process the ring goes straight to the waiters; on PostgreSQL the bells
also carry it to the other processes (LISTEN/NOTIFY), so a login waiting in a
worker wakes when the webhook that stored the SMS ran in another process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from banshui.core.bells import Bells

TOPIC = "sms"


class CodeNotifier:
    """A number's SMS stored: its waiters wake, in whichever process they are."""

    def __init__(self, bells: Bells | None = None) -> None:
        self._bells = bells if bells is not None else Bells()

    @asynccontextmanager
    async def listening(self, number: str) -> AsyncIterator[asyncio.Event]:
        async with self._bells.listening(TOPIC, number) as event:
            yield event

    def notify(self, number: str) -> None:
        self._bells.ring(TOPIC, number)

    def waiting(self, number: str) -> int:
        """How many wait for the number's SMS in this process."""
        return self._bells.listeners(TOPIC, number)
