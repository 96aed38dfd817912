"""Migration 0008: the sources registered before it stay in use, with their SMS."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, pool

from banshui.core.db import Database, UtcDateTime, sync_url
from banshui.core.migrate import alembic_config, upgrade
from banshui.sms.sources import find_source, list_sources

AT = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 3, 16, 2, 5, tzinfo=UTC)

SOURCES = sa.table(
    "sources",
    *(sa.column(c) for c in ("id", "kind", "name", "secret_sealed", "number")),
    sa.column("sim_slots", sa.JSON()),
    sa.column("created_at", UtcDateTime()),
)
SMS = sa.table(
    "inbound_sms",
    *(sa.column(c) for c in ("id", "source_id", "dedupe_key", "number", "sender")),
    *(sa.column(c) for c in ("text", "day", "kind", "from_bureau")),
    sa.column("received_at", UtcDateTime()),
)


def _before(connection: sa.Connection) -> None:
    """A source with one SMS, as 0007 left them."""
    connection.execute(
        sa.insert(SOURCES),
        {
            "id": 1,
            "kind": "smsforwarder",
            "name": "zhang-phone",
            "secret_sealed": "v1:sealed",
            "number": "19912340001",
            "sim_slots": {},
            "created_at": AT,
        },
    )
    connection.execute(
        sa.insert(SMS),
        {
            "id": 1,
            "source_id": 1,
            "dedupe_key": "k1",
            "number": "19912340001",
            "sender": "12366",
            "text": "【中国税务】您的登录验证码：418207",
            "day": date(2026, 3, 16),
            "kind": "bureau_login",
            "from_bureau": True,
            "received_at": RECEIVED,
        },
    )


async def _as_banshui_sees_it(url: str) -> tuple[str, datetime | None]:
    db = Database(url)
    try:
        found = await find_source(db, "smsforwarder", "zhang-phone")
        [listed] = await list_sources(db)
    finally:
        await db.close()
    return found.name, listed.last_received_at


def test_a_source_registered_before_is_still_in_use_and_knows_its_last_sms(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as connection:
        _before(connection)

    upgrade(url)

    with engine.connect() as connection:
        removed = connection.execute(sa.text("SELECT removed_at FROM sources"))
        assert removed.scalars().all() == [None]
    engine.dispose()
    assert asyncio.run(_as_banshui_sees_it(url)) == ("zhang-phone", RECEIVED)


def test_0008_is_undone_and_done_again_without_losing_a_source_or_an_sms(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as connection:
        _before(connection)
    upgrade(url)

    command.downgrade(alembic_config(url), "0007")
    upgrade(url)

    with engine.connect() as connection:
        counted = connection.execute(
            sa.text("SELECT (SELECT count(*) FROM sources), count(*) FROM inbound_sms")
        )
        assert tuple(counted.one()) == (1, 1)
    engine.dispose()
    command.check(alembic_config(url))
