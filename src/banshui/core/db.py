"""Storage: SQLAlchemy 2 on SQLite (one process) or PostgreSQL (many)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from banshui.core.private_files import private_sqlite_file

T = TypeVar("T")

# How long a SQLite writer waits for the write lock before "database is locked".
# Long: a burst of writers queues rather than failing, and each waits only for
# transactions that are short.
BUSY_TIMEOUT_MS = 30_000
# The execution option that marks a session as reading only (see _sqlite_begin).
READ_ONLY = "banshui_read_only"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on databases that keep no offset too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def async_url(url: str) -> str:
    """The async driver for a database URL people write without one."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(False)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(False)
    return url


def sync_url(url: str) -> str:
    """The sync driver for migrations."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return parsed.set(drivername="sqlite").render_as_string(False)
    if parsed.drivername.startswith("postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(False)
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).drivername.startswith("sqlite")


def create_engine(url: str, pool: Pool | None = None) -> AsyncEngine:
    # hide_parameters: a failed statement's error must not log SMS texts or codes.
    sizes = {} if pool is None or is_sqlite(url) else pool.options()
    engine = create_async_engine(
        async_url(url),
        pool_pre_ping=not is_sqlite(url),
        hide_parameters=True,
        **sizes,
    )
    if is_sqlite(url):
        _listen_as_sqlite(engine.sync_engine)
        private_sqlite_file(url)  # 0600 before SQLite first opens it
    return engine


def create_sqlite_sync_engine(url: str) -> Engine:
    """The same SQLite database through the plain driver, for one-trip work."""
    # Every use is on the one storage thread; the pool may close from another.
    engine = sqlalchemy.create_engine(
        sync_url(url),
        hide_parameters=True,
        connect_args={"check_same_thread": False},
    )
    _listen_as_sqlite(engine)
    return engine


def _listen_as_sqlite(engine: Engine) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)


def _sqlite_begin(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with
    # SQLITE_BUSY when another writer went first; IMMEDIATE waits its turn.
    # A session that only reads begins deferred: under WAL it then reads its
    # snapshot without waiting for writers, which is what WAL is for.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers go on during a write; FULL makes an acknowledged SMS
    # survive a power cut, not only a process crash.
    # pysqlite's own transaction handling is switched off so BEGIN is ours.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


@dataclass(frozen=True, slots=True)
class Pool:
    """Connections one process keeps to PostgreSQL, and how many more it may open."""

    size: int = 5
    overflow: int = 10

    def options(self) -> dict[str, int]:
        return {"pool_size": self.size, "max_overflow": self.overflow}


class Database:
    """The engine and its session factories, made once per process.

    ``session()`` is for reading: it is never committed, and on SQLite it does
    not take the write lock. Whatever writes goes through ``transaction()`` or
    ``run_transaction()``, reads that decide a write included, so that on SQLite
    it holds the write lock from its first statement.
    """

    def __init__(self, url: str, pool: Pool | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, pool)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        reading = self.engine.execution_options(**{READ_ONLY: True})
        self.read_sessions = async_sessionmaker(reading, expire_on_commit=False)
        self._storage: _SqliteStorage | None = None
        self._writers = _PerLoop()

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with (
            self._turn_to_write(),
            self.sessions() as session,
            session.begin(),
        ):
            yield session

    async def run_transaction(self, work: Callable[[Session], T]) -> T:
        """``work`` in one write transaction, committed when it returns.

        On SQLite the async driver hands every cursor step (open, execute,
        fetch, close) to its thread and back; here the whole transaction runs
        on a storage thread of its own through the plain driver, one hop in
        all. PostgreSQL's driver is asynchronous: ``work`` runs on its
        connection as it is.
        """
        if not self.is_sqlite:
            async with self.transaction() as session:
                return await session.run_sync(work)

        if self._storage is None:
            self._storage = _SqliteStorage(self.url)
        async with self._turn_to_write():
            return await self._storage.run(work)

    @asynccontextmanager
    async def _turn_to_write(self) -> AsyncIterator[None]:
        """On SQLite, this process's writers take turns, first come first served.

        SQLite lets one writer in at a time. One that finds the lock taken
        sleeps and tries again (its busy handler, for up to 30 s), so under
        load the lock is often free while every waiter sleeps, and the unlucky
        wait longest, then fail with "database is locked". Queued here, each
        writer begins the moment the one before it ends. Another process (a
        CLI command) is still waited for by SQLite's own busy timeout.
        """
        if not self.is_sqlite:
            yield
            return

        turn = self._writers.get()
        try:
            async with asyncio.timeout(BUSY_TIMEOUT_MS / 1000):
                await turn.acquire()
        except TimeoutError:
            raise NoTurnToWrite() from None
        try:
            yield
        finally:
            turn.release()

    async def close(self) -> None:
        await self.engine.dispose()
        if self._storage is not None:
            await self._storage.close()
            self._storage = None


class NoTurnToWrite(OperationalError):
    """This process's other writers held SQLite's write lock for too long."""

    def __init__(self) -> None:
        waited = f"no turn to write within {BUSY_TIMEOUT_MS // 1000} s"
        super().__init__(
            "BEGIN IMMEDIATE", None, TimeoutError(f"database is locked ({waited})")
        )


class _PerLoop:
    """One lock for the writers of each event loop (tests run several)."""

    def __init__(self) -> None:
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        for other in [known for known in self._locks if known.is_closed()]:
            del self._locks[other]
        return self._locks.setdefault(loop, asyncio.Lock())


class _SqliteStorage:
    """A plain SQLite connection with a thread of its own, for one-trip work."""

    def __init__(self, url: str) -> None:
        self.engine = create_sqlite_sync_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def run(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, self._committed, work)

    def _committed(self, work: Callable[[Session], T]) -> T:
        with self.sessions() as session, session.begin():
            return work(session)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.thread, self.engine.dispose)
        self.thread.shutdown(wait=False)
