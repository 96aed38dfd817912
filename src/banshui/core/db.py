"""Storage: SQLAlchemy 2 on SQLite (one process) or PostgreSQL (many)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

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
from sqlalchemy.orm.session import JoinTransactionMode
from sqlalchemy.types import TypeDecorator

from banshui.core.private_files import private_sqlite_file

T = TypeVar("T")

# How long a SQLite writer waits for the write lock before "database is locked".
# Long: a burst of writers queues rather than failing, and each waits only for
# transactions that are short.
BUSY_TIMEOUT_MS = 30_000
# The execution option that marks a session as reading only (see _sqlite_begin).
READ_ONLY = "banshui_read_only"
# Threads (and connections) reading SQLite in one trip (``run_read``).
READERS = 4
# Writes committed together at most (``_SqliteStorage``): a batch holds the
# write lock, which another process (a CLI command) may be waiting for.
MAX_BATCH = 64

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


def create_sqlite_sync_engine(url: str, pool_size: int = 1) -> Engine:
    """The same SQLite database through the plain driver, for one-trip work."""
    # A connection is used by one thread at a time (the storage thread, or a
    # reader); the pool may close it from another.
    engine = sqlalchemy.create_engine(
        sync_url(url),
        hide_parameters=True,
        pool_size=pool_size,
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
        # Asked on every write: parsing the URL each time cost more than a lookup.
        self._is_sqlite = is_sqlite(url)
        self.engine = create_engine(url, pool)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        reading = self.engine.execution_options(**{READ_ONLY: True})
        self.read_sessions = async_sessionmaker(reading, expire_on_commit=False)
        self._storage: _SqliteStorage | None = None
        self._readers: _SqliteReaders | None = None

    @property
    def is_sqlite(self) -> bool:
        return self._is_sqlite

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
        on the storage thread through the plain driver, one hop in all, and
        the next writer's work begins there the moment this one commits.
        PostgreSQL's driver is asynchronous: ``work`` runs on its connection
        as it is.
        """
        if not self.is_sqlite:
            async with self.transaction() as session:
                return await session.run_sync(work)

        return await self._sqlite_storage().run(work)

    async def run_read(self, work: Callable[[Session], T]) -> T:
        """``work`` reading in one trip: ``session()`` for the hot paths.

        On SQLite it runs on one of a few reader threads through the plain
        driver, so a read is one hop instead of one per cursor step (begin,
        execute, fetch, close, roll back), each waiting its turn on a busy
        event loop; under WAL readers never wait for the writer.
        """
        if not self.is_sqlite:
            async with self.session() as session:
                return await session.run_sync(work)

        if self._readers is None:
            self._readers = _SqliteReaders(self.url)
        return await self._readers.run(work)

    @asynccontextmanager
    async def _turn_to_write(self) -> AsyncIterator[None]:
        """On SQLite, this process's writers take turns, first come first served.

        SQLite lets one writer in at a time. One that finds the lock taken
        sleeps and tries again (its busy handler, for up to 30 s), so under
        load the lock is often free while every waiter sleeps, and the unlucky
        wait longest, then fail with "database is locked". Here every writer
        of the process queues on the storage thread: ``run_transaction`` work
        runs there, and a writer on the async driver is let in when the
        thread reaches its place in the queue, the thread waiting meanwhile.
        Another process (a CLI command) is still waited for by SQLite's own
        busy timeout.
        """
        if not self.is_sqlite:
            yield
            return

        async with self._sqlite_storage().turn():
            yield

    def _sqlite_storage(self) -> _SqliteStorage:
        if self._storage is None:
            self._storage = _SqliteStorage(self.url)
        return self._storage

    async def close(self) -> None:
        await self.engine.dispose()
        if self._storage is not None:
            await self._storage.close()
            self._storage = None
        if self._readers is not None:
            await self._readers.close()
            self._readers = None


class NoTurnToWrite(OperationalError):
    """This process's other writers held SQLite's write lock for too long."""

    def __init__(self) -> None:
        waited = f"no turn to write within {BUSY_TIMEOUT_MS // 1000} s"
        super().__init__(
            "BEGIN IMMEDIATE", None, TimeoutError(f"database is locked ({waited})")
        )


class _SqliteStorage:
    """A plain SQLite connection with a thread of its own: the one writer.

    The thread takes its work in the order it was asked for, so writers of
    the process never meet SQLite's busy handler among themselves. Work that
    waits while the thread commits is committed together the next time, each
    in a savepoint of one transaction (see ``_committed_together``).
    """

    def __init__(self, url: str) -> None:
        self.engine = create_sqlite_sync_engine(url)
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        # The thread's connection, kept between its transactions.
        self._connection: sqlalchemy.Connection | None = None
        # The batch whose turn on the thread is queued and not yet begun:
        # work asked for now joins it. Lending the thread's turn closes it, so
        # work asked for after a lent turn is done after it.
        self._open: list[_Work[Any]] | None = None
        self._lock = threading.Lock()

    async def run(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        # The context goes along, as asyncio.to_thread's does: an audit entry
        # written on the thread notes the address of the request behind it.
        future: asyncio.Future[T] = loop.create_future()
        item = _Work(work, contextvars.copy_context(), loop, future)
        with self._lock:
            batch = self._open
            if batch is None or len(batch) >= MAX_BATCH:
                batch = self._open = []
                self.thread.submit(self._take, batch)
            batch.append(item)
        return await future

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """The thread's turn lent to a writer on another connection.

        The thread waits while the writer writes, so nothing of this process
        writes beside it; the writer that gets no turn within the busy time-out
        fails as a busy SQLite would (``NoTurnToWrite``).
        """
        loop = asyncio.get_running_loop()
        let_in: asyncio.Future[None] = loop.create_future()
        finished = threading.Event()

        def lend() -> None:
            if finished.is_set():
                return  # the writer gave up waiting
            loop.call_soon_threadsafe(_resolve, let_in)
            # Bounded: a writer that never ends is left to SQLite's own lock.
            finished.wait(BUSY_TIMEOUT_MS / 1000)

        with self._lock:
            self._open = None
            # Not awaited: it ends by itself once ``finished`` is set.
            loop.run_in_executor(self.thread, lend)
        try:
            try:
                async with asyncio.timeout(BUSY_TIMEOUT_MS / 1000):
                    await let_in
            except TimeoutError:
                raise NoTurnToWrite() from None
            yield
        finally:
            finished.set()

    def _take(self, batch: list[_Work[Any]]) -> None:
        with self._lock:
            if self._open is batch:
                self._open = None
        # Work whose caller gave up before its turn is not done at all.
        batch = [item for item in batch if not item.future.cancelled()]
        if not batch:
            return

        try:
            outcomes = self._committed_together(batch)
        except BaseException as error:  # every caller hears of it, none waits on
            outcomes = [_Outcome(error=error) for _ in batch]
        for item, outcome in zip(batch, outcomes, strict=True):
            item.loop.call_soon_threadsafe(_settle, item.future, outcome)

    def _committed_together(self, batch: list[_Work[Any]]) -> list[_Outcome]:
        """Every work of the batch, committed at once: one sync to disk for all.

        With synchronous=FULL a commit waits for the disk, several milliseconds
        on a busy machine, while the work itself takes a fraction of one; in a
        burst, writers queued behind each other's syncs. Each work runs in a
        savepoint of its own, so one that fails is undone alone and the others
        commit. Its caller is answered only after the commit: if the commit
        fails, every work of the batch fails with it. So does every work when
        SQLite itself undid the whole transaction (a full disk, an I/O error):
        the savepoint is gone with it, and what the works before had written.
        """
        # Taken from the pool once and kept: checking it out and back in for
        # every transaction cost as much as a small batch of SMS to write.
        if self._connection is None:
            self._connection = self.engine.connect()
        connection = self._connection
        if len(batch) == 1:
            return [_attempt(batch[0], connection, "conditional_savepoint")]

        outcomes: list[_Outcome] = []
        try:
            with connection.begin():
                for item in batch:
                    outcomes.append(_attempt(item, connection, "create_savepoint"))
                    if not _in_transaction(connection):
                        raise _TransactionUndone(outcomes[-1].error)
        except _TransactionUndone as undone:
            # Nothing of the batch is written; the rest must not run outside it.
            cause = undone.cause or OperationalError(
                "the batch's transaction", None, Exception("it was rolled back")
            )
            return [_Outcome(error=cause) for _ in batch]
        except Exception as error:  # the commit failed: nothing was written
            return [_Outcome(error=error) for _ in batch]
        return outcomes

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.thread, self._let_go)
        self.thread.shutdown(wait=False)

    def _let_go(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


class _SqliteReaders:
    """Plain SQLite connections on a few threads of their own, for one-trip reads."""

    def __init__(self, url: str) -> None:
        engine = create_sqlite_sync_engine(url, pool_size=READERS)
        self.engine = engine
        reading = engine.execution_options(**{READ_ONLY: True})
        self.sessions = sessionmaker(reading, expire_on_commit=False)
        self.threads = ThreadPoolExecutor(
            max_workers=READERS, thread_name_prefix="sqlite-read"
        )

    async def run(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self.threads, context.run, self._read, work)

    def _read(self, work: Callable[[Session], T]) -> T:
        with self.sessions() as session, session.begin():
            return work(session)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.threads, self.engine.dispose)
        self.threads.shutdown(wait=False)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass(slots=True)
class _Work(Generic[T]):
    """Work for the storage thread and where its caller awaits the outcome."""

    work: Callable[[Session], T]
    context: contextvars.Context
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: Any = None
    error: BaseException | None = None


def _attempt(
    item: _Work[Any], connection: sqlalchemy.Connection, mode: JoinTransactionMode
) -> _Outcome:
    """One work in a session of its own on the thread's connection.

    Alone it is its own transaction; inside a batch's transaction its session
    takes a savepoint, released when it returns and rolled back when it raises.
    """
    try:
        with (
            Session(
                connection, join_transaction_mode=mode, expire_on_commit=False
            ) as session,
            session.begin(),
        ):
            return _Outcome(result=item.context.run(item.work, session))
    except BaseException as error:  # its own caller's, whatever it is
        return _Outcome(error=error)


class _TransactionUndone(Exception):
    """SQLite rolled back the batch's whole transaction under its works."""

    def __init__(self, cause: BaseException | None) -> None:
        super().__init__("the batch's transaction was rolled back")
        # Undoing the savepoint fails too ("no such savepoint"), which hides
        # the error that undid it all: that one is the cause.
        while (
            cause is not None
            and "no such savepoint" in str(cause)
            and cause.__context__ is not None
        ):
            cause = cause.__context__
        self.cause = cause


def _in_transaction(connection: sqlalchemy.Connection) -> bool:
    # SQLite undoes the whole transaction on a full disk, an I/O error or
    # RAISE(ROLLBACK), and the connection goes on in autocommit; SQLAlchemy's
    # own record of the transaction does not know.
    dbapi = connection.connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", True))


def _settle(future: asyncio.Future[Any], outcome: _Outcome) -> None:
    if future.done():
        return  # its caller was cancelled while the thread worked
    if outcome.error is not None:
        future.set_exception(outcome.error)
    else:
        future.set_result(outcome.result)
