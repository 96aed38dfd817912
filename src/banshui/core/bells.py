"""Wake-ups: in this process, and on PostgreSQL across processes (LISTEN/NOTIFY).

A bell has a topic (what kind of thing changed: a number's SMS, a lane, a login)
and a key (which one). Whoever waits for a key listens; whoever changed it rings
once the change is committed. In one process a ring sets the listeners' events at
once. On PostgreSQL it also goes out as a NOTIFY on one channel that every other
banshui process LISTENs to and turns into the same ring of its own, so a waiter
wakes whichever process committed the change. No broker: the database is it.

SQLite serves one process, so its bells never leave the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from banshui.core.db import is_sqlite

logger = logging.getLogger(__name__)

CHANNEL = "banshui"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
PAYLOAD_LIMIT = 7900
# After a lost connection the listener tries again after these pauses (the last
# one repeats); once back, every waiter here looks again for what it missed.
RECONNECT_PAUSES = (0.1, 0.5, 1.0, 2.0, 5.0)
# Rings waiting to go out are sent together, at most this many in one statement.
SEND_BATCH = 200

Handler = Callable[[str], None]
Connection = psycopg.AsyncConnection[tuple[Any, ...]]

_RING = "r"
_MESSAGE = "m"


class Bells:
    """In-process: every ring and every listener share this process."""

    def __init__(self) -> None:
        self._listeners: dict[tuple[str, str], set[asyncio.Event]] = defaultdict(set)
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    @property
    def across_processes(self) -> bool:
        return False

    async def start(self) -> None:
        """Nothing to connect in one process."""

    async def close(self) -> None:
        """Nothing to let go in one process."""

    @asynccontextmanager
    async def listening(self, topic: str, key: str) -> AsyncIterator[asyncio.Event]:
        """An event set by every ring of (topic, key) while the block runs."""
        event = asyncio.Event()
        self._listeners[(topic, key)].add(event)
        try:
            yield event
        finally:
            self._listeners[(topic, key)].discard(event)
            if not self._listeners[(topic, key)]:
                del self._listeners[(topic, key)]

    def listeners(self, topic: str, key: str) -> int:
        """How many wait for (topic, key) here (the benchmarks watch for them)."""
        return len(self._listeners.get((topic, key), ()))

    def ring(self, topic: str, key: str) -> None:
        """Wake whoever waits for (topic, key), here and in other processes."""
        self._wake(topic, key)
        self._send(_RING, topic, key)

    def on_message(self, topic: str, handler: Handler) -> None:
        """Call ``handler`` with each message of ``topic`` from other processes."""
        self._handlers[topic].append(handler)

    def tell_others(self, topic: str, message: str) -> None:
        """A message for the handlers of ``topic`` in the other processes."""
        self._send(_MESSAGE, topic, message)

    def _send(self, kind: str, topic: str, text: str) -> None:
        """One process has no others to tell."""

    def _wake(self, topic: str, key: str) -> None:
        for event in self._listeners.get((topic, key), ()):
            event.set()

    def _wake_everyone(self) -> None:
        for events in self._listeners.values():
            for event in events:
                event.set()

    def _received(self, kind: str, topic: str, text: str) -> None:
        if kind == _RING:
            self._wake(topic, text)
            return
        for handler in self._handlers.get(topic, ()):
            try:
                handler(text)
            except Exception:
                logger.exception("a handler of %s messages failed", topic)


class PostgresBells(Bells):
    """Across processes: one connection LISTENs, another one NOTIFYs.

    Each instance signs what it sends, so it does not hear its own rings twice.
    Until ``start`` it rings in this process only (a command-line run).
    """

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self._conninfo = libpq_url(database_url)
        self._origin = secrets.token_hex(6)
        self._outgoing: asyncio.Queue[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def across_processes(self) -> bool:
        return True

    async def start(self) -> None:
        """Listen before returning: a waiter from now on hears every later ring."""
        if self._tasks:
            return
        listener = await self._connect_listener()
        self._outgoing = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._listen_forever(listener)),
            asyncio.create_task(self._send_forever(self._outgoing)),
        ]

    async def close(self) -> None:
        tasks, self._tasks, self._outgoing = self._tasks, [], None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _send(self, kind: str, topic: str, text: str) -> None:
        if self._outgoing is None:
            return
        payload = f"{self._origin}|{kind}|{topic}|{text}"
        if len(payload.encode()) > PAYLOAD_LIMIT:
            logger.warning("a %s message was too long to tell other processes", topic)
            return
        self._outgoing.put_nowait(payload)

    # Listening.

    async def _connect_listener(self) -> Connection:
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True
        )
        await connection.execute(f"LISTEN {CHANNEL}")
        return connection

    async def _listen_forever(self, connection: Connection) -> None:
        while True:
            try:
                async for note in connection.notifies():
                    self._heard(note.payload)
            except psycopg.OperationalError as error:
                logger.warning("listening to other processes stopped: %s", error)
            finally:
                with contextlib.suppress(psycopg.Error):
                    await connection.close()
            connection = await self._reconnect()
            # Rings sent while nobody listened went unheard: everyone looks again.
            self._wake_everyone()

    async def _reconnect(self) -> Connection:
        tries = 0
        while True:
            pause = RECONNECT_PAUSES[min(tries, len(RECONNECT_PAUSES) - 1)]
            await asyncio.sleep(pause)
            tries += 1
            try:
                return await self._connect_listener()
            except psycopg.OperationalError as error:
                if tries == len(RECONNECT_PAUSES):
                    logger.warning("cannot listen to other processes yet: %s", error)

    def _heard(self, payload: str) -> None:
        parts = payload.split("|", 3)
        if len(parts) == 4 and parts[0] != self._origin:
            self._received(parts[1], parts[2], parts[3])

    # Sending.

    async def _send_forever(self, outgoing: asyncio.Queue[str]) -> None:
        connection: Connection | None = None
        try:
            while True:
                batch = [await outgoing.get()]
                while len(batch) < SEND_BATCH and not outgoing.empty():
                    batch.append(outgoing.get_nowait())
                connection = await self._notify(connection, batch)
        finally:
            if connection is not None:
                with contextlib.suppress(psycopg.Error):
                    await connection.close()

    async def _notify(
        self, connection: Connection | None, batch: list[str]
    ) -> Connection | None:
        """Send the batch, (re)connecting first if need be; the connection kept."""
        for attempt in (1, 2):
            try:
                if connection is None or connection.closed:
                    connection = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True
                    )
                await connection.execute(
                    "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload",
                    (CHANNEL, batch),
                )
                return connection
            except psycopg.OperationalError as error:
                if attempt == 2:
                    # Their waiters wake at their own time-outs, or when the
                    # listeners come back and look again.
                    logger.warning(
                        "%d rings for other processes were lost: %s", len(batch), error
                    )
                if connection is not None:
                    with contextlib.suppress(psycopg.Error):
                        await connection.close()
                connection = None
        return connection


def bells_for(database_url: str) -> Bells:
    """Across processes where the database carries them; else in this process."""
    if is_sqlite(database_url):
        return Bells()
    return PostgresBells(database_url)


def libpq_url(database_url: str) -> str:
    """The URL as libpq reads it: SQLAlchemy's driver name taken off."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
