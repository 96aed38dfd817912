"""Before a live session is reused it is probed; a dead one means a fresh login."""

from __future__ import annotations

from sqlalchemy import select

from banshui.demo.cast import S1, S2, ZHANG_SAN, A, B
from banshui.login.models import BureauSession

from .conftest import Sandbox, logs_in_by_hand, served_and_released


async def _states(sandbox: Sandbox) -> list[str]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(BureauSession.state).order_by(BureauSession.id)
        )
        return list(rows)


async def test_a_session_the_bureau_dropped_is_found_dead_and_replaced(
    sandbox: Sandbox,
) -> None:
    await served_and_released(sandbox, A)
    body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
    dropped = await sandbox.stack.sim.post("/admin/sessions/drop", json=body)
    assert dropped.json() == {"dropped": 1}

    after = await served_and_released(sandbox, A)

    assert (after["sms_used"], after["switched"], after["number"]) == (1, False, S1)
    assert await _states(sandbox) == ["dropped", "live"]


async def test_a_dead_session_is_not_switched_but_replaced(sandbox: Sandbox) -> None:
    await served_and_released(sandbox, A)
    body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
    await sandbox.stack.sim.post("/admin/sessions/drop", json=body)

    to_b = await served_and_released(sandbox, B)

    assert (to_b["sms_used"], to_b["switched"]) == (1, False)


async def test_a_hand_login_in_the_same_region_ends_the_session_it_replaced(
    sandbox: Sandbox,
) -> None:
    await served_and_released(sandbox, A)
    # R4: 张三 logging in by hand in 深圳 ends banshui's session there.
    await logs_in_by_hand(sandbox, S2, B, count=1)

    after = await served_and_released(sandbox, A)

    assert (after["sms_used"], after["switched"], after["number"]) == (1, False, S1)
