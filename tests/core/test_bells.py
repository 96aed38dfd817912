"""Bells across processes on PostgreSQL: LISTEN/NOTIFY between two connections.

Two ``PostgresBells`` stand for two processes: each has its own connections
and hears the other only through the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from banshui.core.bells import Bells, PostgresBells, bells_for, libpq_url

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[tuple[Bells, Bells]]:
    here, there = bells_for(database_url), bells_for(database_url)
    assert isinstance(here, PostgresBells) and isinstance(there, PostgresBells)
    await here.start()
    await there.start()
    yield here, there
    await here.close()
    await there.close()


async def test_a_ring_in_one_process_wakes_the_listener_in_another(
    two: tuple[Bells, Bells],
) -> None:
    here, there = two
    async with here.listening("sms", "19912340001") as rung:
        there.ring("sms", "19912340001")
        await asyncio.wait_for(rung.wait(), 5)


async def test_a_ring_wakes_only_the_listeners_of_its_key(
    two: tuple[Bells, Bells],
) -> None:
    here, there = two
    async with (
        here.listening("sms", "19912340001") as mine,
        here.listening("sms", "19912340002") as other,
    ):
        there.ring("sms", "19912340001")
        await asyncio.wait_for(mine.wait(), 5)
        await asyncio.sleep(0.2)  # time for a wrong wake-up to arrive

        assert not other.is_set()


async def test_a_message_reaches_the_other_processes_but_not_its_own(
    two: tuple[Bells, Bells],
) -> None:
    here, there = two
    heard_here: list[str] = []
    heard_there: list[str] = []
    here.on_message("login", heard_here.append)
    there.on_message("login", heard_there.append)

    here.tell_others("login", '{"id": "x", "status": "succeeded"}')
    for _ in range(250):
        if heard_there:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)

    assert heard_there == ['{"id": "x", "status": "succeeded"}']
    assert heard_here == []


async def test_a_listener_cut_off_listens_again_and_its_waiters_look_again(
    database_url: str, two: tuple[Bells, Bells]
) -> None:
    here, there = two
    async with here.listening("lane", "1:4403") as rung:
        _end_every_listening_connection(database_url)
        # What was rung while nobody listened is lost: the waiters look again.
        await asyncio.wait_for(rung.wait(), 10)
        rung.clear()
        await asyncio.sleep(0.3)

        there.ring("lane", "1:4403")
        await asyncio.wait_for(rung.wait(), 10)


def _end_every_listening_connection(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
