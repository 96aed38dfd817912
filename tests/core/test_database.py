"""Sessions that read, transactions that write, and work done in one trip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from banshui.core.db import Database
from banshui.numbers.models import Customer

MOMENT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.close()


async def customers(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Customer)))


def customer(name: str) -> Customer:
    return Customer(
        name=name, app_key=f"key-{name}", app_secret_sealed="sealed", created_at=MOMENT
    )


def add_customer(session: Session, name: str) -> None:
    session.add(customer(name))


async def queued_behind_a_writer(
    db: Database,
    works: list[Callable[[Session], Any]],
    holder_adds: str | None = None,
    while_queued: Callable[[list[asyncio.Task[Any]]], None] = lambda tasks: None,
) -> list[Any]:
    """Each work in one trip, all asked while another writer holds the turn.

    They queue on the storage thread together, so they are taken together once
    the writer commits; their outcomes (a result or an error) in order.
    """
    held = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with db.transaction() as session:
            if holder_adds is not None:
                session.add(customer(holder_adds))
                await session.flush()
            held.set()
            await let_go.wait()

    first = asyncio.create_task(holder())
    await held.wait()
    waiting = [asyncio.create_task(db.run_transaction(work)) for work in works]
    await asyncio.sleep(0)  # every one has asked before the turn ends
    while_queued(waiting)
    let_go.set()
    await first
    return await asyncio.gather(*waiting, return_exceptions=True)


async def test_a_read_goes_on_while_a_write_transaction_holds_the_lock(
    db: Database,
) -> None:
    async with db.transaction() as writer:
        writer.add(customer("示例集团"))
        await writer.flush()

        # Were reads to wait for the writer, this would wait for itself.
        seen = await asyncio.wait_for(customers(db), 10)

    assert seen == 0
    assert await customers(db) == 1


async def test_work_run_in_one_trip_is_committed_when_it_returns(
    db: Database,
) -> None:
    def work(session: Session) -> str:
        add_customer(session, "示例集团")
        add_customer(session, "示例商贸")
        return "done"

    assert await db.run_transaction(work) == "done"
    assert await customers(db) == 2


async def test_work_run_in_one_trip_that_raises_leaves_nothing_behind(
    db: Database,
) -> None:
    def work(session: Session) -> None:
        add_customer(session, "示例集团")
        session.flush()
        raise LookupError("changed its mind")

    with pytest.raises(LookupError):
        await db.run_transaction(work)
    assert await customers(db) == 0


@pytest.mark.sqlite_only
async def test_writers_of_one_process_take_turns_in_the_order_they_came(
    db: Database,
) -> None:
    entered: list[int] = []
    first_in = asyncio.Event()

    async def writer(index: int) -> None:
        async with db.transaction() as session:
            session.add(customer(f"示例{index}"))
            await session.flush()  # SQLite's write lock is this writer's now
            entered.append(index)
            first_in.set()
            await asyncio.sleep(0.02)

    first = asyncio.create_task(writer(0))
    await first_in.wait()
    others = []
    for index in range(1, 12):
        others.append(asyncio.create_task(writer(index)))
        await asyncio.sleep(0.001)  # each asks after the one before
    await asyncio.gather(first, *others)

    assert entered == list(range(12))
    assert await customers(db) == 12


@pytest.mark.sqlite_only
async def test_one_trip_work_and_transactions_write_in_the_order_they_came(
    db: Database,
) -> None:
    entered: list[str] = []
    first_in = asyncio.Event()

    async def in_a_transaction(name: str) -> None:
        async with db.transaction() as session:
            session.add(customer(name))
            await session.flush()
            entered.append(name)
            first_in.set()
            await asyncio.sleep(0.02)

    async def one_trip(name: str) -> None:
        def work(session: Session) -> None:
            session.add(customer(name))
            entered.append(name)

        await db.run_transaction(work)

    first = asyncio.create_task(in_a_transaction("t0"))
    await first_in.wait()
    names = ["w1", "t2", "w3", "w4", "t5", "w6"]
    tasks = []
    for name in names:
        job = in_a_transaction(name) if name[0] == "t" else one_trip(name)
        tasks.append(asyncio.create_task(job))
        await asyncio.sleep(0.001)  # each asks after the one before
    await asyncio.gather(first, *tasks)

    assert entered == ["t0", *names]
    assert await customers(db) == 7


@pytest.mark.sqlite_only
async def test_a_writer_that_gives_up_waiting_leaves_the_turn_to_the_next(
    db: Database,
) -> None:
    held = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with db.transaction() as session:
            session.add(customer("示例集团"))
            await session.flush()
            held.set()
            await let_go.wait()

    first = asyncio.create_task(holder())
    await held.wait()
    impatient = asyncio.create_task(holder())
    await asyncio.sleep(0.05)
    impatient.cancel()  # gives up while it waits for its turn
    with pytest.raises(asyncio.CancelledError):
        await impatient
    let_go.set()
    await first

    # The turn the impatient writer would have had is not kept for it.
    await asyncio.wait_for(db.run_transaction(lambda s: add_customer(s, "示例商贸")), 5)
    assert await customers(db) == 2


async def test_a_read_in_one_trip_sees_what_was_committed(db: Database) -> None:
    await db.run_transaction(lambda session: add_customer(session, "示例集团"))

    count = select(func.count()).select_from(Customer)
    assert await db.run_read(lambda session: session.scalar(count)) == 1


@pytest.mark.sqlite_only
async def test_writes_that_wait_for_the_storage_thread_commit_together_and_fail_alone(
    db: Database,
) -> None:
    def adds(name: str, then_fails: bool = False) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            session.add(customer(name))
            session.flush()
            if then_fails:
                raise ValueError(f"{name} changed its mind")
            return name

        return work

    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(Engine, "commit", committed)
    try:
        works = [
            adds("甲"),
            adds("乙", then_fails=True),
            adds("丙"),
            adds("甲"),  # the same app key again: refused by the unique index
            adds("丁"),
        ]
        outcomes = await queued_behind_a_writer(db, works, holder_adds="持锁集团")
    finally:
        event.remove(Engine, "commit", committed)

    assert outcomes[0::2] == ["甲", "丙", "丁"]
    assert isinstance(outcomes[1], ValueError)
    assert isinstance(outcomes[3], IntegrityError)
    assert await customers(db) == 4
    # The lent transaction's commit, then one for all five that waited.
    assert len(commits) == 2


@pytest.mark.sqlite_only
async def test_a_write_given_up_before_its_turn_is_never_done(db: Database) -> None:
    works = [
        lambda s: add_customer(s, "示例集团"),
        lambda s: add_customer(s, "示例商贸"),
    ]

    def give_up_the_first(tasks: list[asyncio.Task[Any]]) -> None:
        tasks[0].cancel()

    given_up, kept = await queued_behind_a_writer(
        db, works, while_queued=give_up_the_first
    )

    assert kept is None
    with pytest.raises(asyncio.CancelledError):
        raise given_up
    assert await customers(db) == 1


@pytest.mark.sqlite_only
async def test_writes_committed_together_all_fail_when_sqlite_undoes_their_transaction(
    db: Database,
) -> None:
    # SQLite undoes a whole transaction on a full disk or an I/O error; a
    # trigger's RAISE(ROLLBACK) does the same on demand.
    await db.run_transaction(
        lambda session: session.execute(
            text(
                "CREATE TRIGGER undo_all BEFORE INSERT ON customers "
                "WHEN NEW.name = '全部撤销' BEGIN SELECT RAISE(ROLLBACK, 'undone'); END"
            )
        )
    )
    works = [
        lambda s, n=name: add_customer(s, n) for name in ("甲", "乙", "全部撤销", "丙")
    ]
    outcomes = await queued_behind_a_writer(db, works)

    # Each caller hears of the error that undid it all, not of a lost savepoint.
    assert all(isinstance(outcome, DBAPIError) for outcome in outcomes)
    assert all("undone" in str(outcome) for outcome in outcomes)
    assert await customers(db) == 0
    # The thread's connection goes on writing as before.
    await db.run_transaction(lambda session: add_customer(session, "丁"))
    assert await customers(db) == 1
