"""Statements run on SQLite's own cursor write and find what SQLAlchemy would.

On PostgreSQL the same calls go through SQLAlchemy, so there the tests check
that the calls mean the same on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banshui.core.clock import SHANGHAI
from banshui.core.db import Database
from banshui.core.direct import Prepared, insert_rows
from banshui.demo.cast import S1, S2, S3
from banshui.sms.models import CodeExpectation, InboundSms, Source

# Shanghai time on the way in: stored as UTC, as every time is.
MOMENT = datetime(2026, 3, 2, 10, 0, 5, 123456, tzinfo=SHANGHAI)
CODE = "418207"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def source_id(db: Database) -> int:
    def work(session: Session) -> int:
        source = Source(
            kind="smsforwarder",
            name="zhangsan-redmi",
            secret_sealed="sealed",
            number=S1,
            sim_slots={},
            created_at=MOMENT,
        )
        session.add(source)
        session.flush()
        return source.id

    return await db.run_transaction(work)


def sms(
    source_id: int, key: str, number: str = S1, at: datetime = MOMENT
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "dedupe_key": key,
        "number": number,
        "sender": "12366",
        "text": f"【中国税务】您的登录验证码：{CODE}",
        "gateway_time": None,
        "received_at": at,
        "day": date(2026, 3, 2),
        "code": CODE,
        "kind": "bureau_login",
        "from_bureau": True,
    }


async def test_a_row_written_through_the_cursor_is_stored_as_its_orm_twin_is(
    db: Database, source_id: int
) -> None:
    def work(session: Session) -> list[tuple[Any, ...]]:
        session.add(InboundSms(**sms(source_id, "through-the-orm")))
        session.flush()
        insert_rows(session, InboundSms, [sms(source_id, "through-the-cursor")])
        stored = session.execute(
            text(
                "SELECT number, received_at, day, code, from_bureau, expectation_id "
                "FROM inbound_sms ORDER BY id"
            )
        )
        return [tuple(row) for row in stored]

    orm, cursor = await db.run_transaction(work)

    assert cursor == orm


async def test_rows_of_one_insert_that_share_a_key_are_inserted_once(
    db: Database, source_id: int
) -> None:
    rows = [sms(source_id, "twice"), sms(source_id, "once"), sms(source_id, "twice")]

    def work(session: Session) -> list[tuple[Any, ...]]:
        return insert_rows(
            session, InboundSms, rows, ("dedupe_key",), skip_conflicts=True
        )

    inserted = await db.run_transaction(work)

    assert sorted(inserted) == [("once",), ("twice",)]


async def test_a_statement_with_a_list_parameter_finds_what_sqlalchemy_finds(
    db: Database, source_id: int
) -> None:
    statement = (
        select(InboundSms.id, InboundSms.number)
        .where(
            InboundSms.number.in_(bindparam("numbers", expanding=True)),
            InboundSms.received_at >= bindparam("since"),
        )
        .order_by(InboundSms.id)
    )
    prepared = Prepared(statement)
    rows = [
        sms(source_id, f"sms-{index}", number, MOMENT + timedelta(seconds=index))
        for index, number in enumerate([S1, S2, S3, S1, S2])
    ]
    since = MOMENT + timedelta(seconds=1)
    # Lists of several lengths, and a length seen before.
    lists = [[S1], [S1, S2], [S3, S2, S1], [S2]]

    def work(session: Session) -> list[tuple[list[Any], list[Any]]]:
        insert_rows(session, InboundSms, rows)
        answers = []
        for numbers in lists:
            params = {"numbers": numbers, "since": since}
            found = prepared.fetch_all(session, params)
            expected = [tuple(row) for row in session.execute(statement, params)]
            answers.append((found, expected))
        return answers

    answers = await db.run_transaction(work)

    assert all(found == expected for found, expected in answers)
    assert [len(found) for found, _ in answers] == [1, 3, 4, 2]


async def test_a_failed_insert_is_sqlalchemys_error_without_the_values_in_it(
    db: Database, source_id: int
) -> None:
    # No such source: the foreign key refuses the row.
    orphan = sms(source_id + 1000, "orphan")

    def work(session: Session) -> None:
        insert_rows(session, InboundSms, [orphan])

    with pytest.raises(IntegrityError) as raised:
        await db.run_transaction(work)

    assert CODE not in str(raised.value)


@pytest.mark.sqlite_only
async def test_a_statement_that_answers_with_a_time_is_not_run_on_the_cursor(
    db: Database, source_id: int
) -> None:
    times = Prepared(select(InboundSms.received_at))

    def work(session: Session) -> list[tuple[Any, ...]]:
        return times.fetch_all(session, {})

    with pytest.raises(TypeError, match="converted when read"):
        await db.run_transaction(work)


@pytest.mark.sqlite_only
async def test_an_insert_that_leaves_out_a_column_with_a_default_is_refused(
    db: Database,
) -> None:
    # ``fulfilled`` defaults to False in Python, not in the database.
    row = {
        "number": S1,
        "waiter": "login-1",
        "requested_at": MOMENT,
        "day": date(2026, 3, 2),
    }

    def work(session: Session) -> None:
        insert_rows(session, CodeExpectation, [row])

    with pytest.raises(TypeError, match="default in Python"):
        await db.run_transaction(work)
