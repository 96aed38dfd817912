"""R1 seen from the engine: a number that moved to another person is not used."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.accounts.service import Registry
from banshui.demo.cast import LI_SI, S1, S2, A

if TYPE_CHECKING:
    from conftest import Sandbox


async def test_a_number_moved_to_li_is_no_longer_used_for_zhangs_logins(
    sandbox: Sandbox,
) -> None:
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    async with runtime.db.session() as session:
        li = await session.scalar(select(Person).where(Person.name == LI_SI.name))
    assert li is not None
    await registry.give_number(li.id, S1, actor="operator:王五")

    asked = await sandbox.client.ask_login(A.tax_id, "receive")
    login = asked
    async with asyncio.timeout(15):
        async for login in sandbox.client.follow(asked["id"]):  # noqa: B007
            pass  # the last object is the settled login

    assert login["status"] == "succeeded", login
    assert login["number"] == S2
