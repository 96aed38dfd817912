"""Keep-alive (DESIGN §5.8): idle sessions nobody holds are probed; dead ones go."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from banshui.core.clock import ManualClock, as_utc
from banshui.core.settings import SettingsError, load_settings
from banshui.demo.cast import ZHANG_SAN, A
from banshui.login.models import BureauSession

from .conftest import (
    CastOn,
    Recorder,
    Sandbox,
    engine_of,
    manual_clock,
    served,
    served_and_released,
)

IDLE = 240


async def _sessions(sandbox: Sandbox) -> list[BureauSession]:
    async with sandbox.stack.runtime.db.session() as session:
        return list(await session.scalars(select(BureauSession)))


async def _drop_at_bureau(sandbox: Sandbox) -> None:
    body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
    (await sandbox.stack.sim.post("/admin/sessions/drop", json=body)).raise_for_status()


async def test_an_idle_session_is_probed_and_kept(cast_on: CastOn) -> None:
    clock = manual_clock()
    async with cast_on(clock, keepalive_seconds=IDLE) as sandbox:
        await served_and_released(sandbox, A)
        clock.advance(IDLE + 1)

        dropped = await engine_of(sandbox).probe_idle_sessions()

        (kept,) = await _sessions(sandbox)
        assert (dropped, kept.state) == ([], "live")
        assert as_utc(kept.checked_at) == clock.now()


async def test_a_session_used_lately_is_not_probed(cast_on: CastOn) -> None:
    clock = manual_clock()
    async with cast_on(clock, keepalive_seconds=IDLE) as sandbox:
        await served_and_released(sandbox, A)
        await _drop_at_bureau(sandbox)
        clock.advance(IDLE - 1)

        assert await engine_of(sandbox).probe_idle_sessions() == []
        assert [row.state for row in await _sessions(sandbox)] == ["live"]


async def test_a_session_the_probe_finds_dead_is_dropped_announced_and_replaced(
    cast_on: CastOn,
) -> None:
    clock, events = manual_clock(), Recorder()
    async with cast_on(clock, events=events, keepalive_seconds=IDLE) as sandbox:
        await served_and_released(sandbox, A)
        await _drop_at_bureau(sandbox)
        _advance(clock)

        dropped = await engine_of(sandbox).probe_idle_sessions()
        again = await served(sandbox, A)

        (gone, fresh) = await _sessions(sandbox)
        assert dropped == [gone.id] and gone.state == "dropped"
        (told,) = events.of("session.dropped")
        assert (told["session_id"], told["found_by"]) == (gone.id, "keep-alive")
        assert told["tenant_id"] == sandbox.tenant_id
        assert (again["sms_used"], fresh.state) == (1, "live")


async def test_a_session_under_lease_is_left_alone(cast_on: CastOn) -> None:
    clock = manual_clock()
    async with cast_on(clock, keepalive_seconds=IDLE) as sandbox:
        login = await served(sandbox, A)
        await _drop_at_bureau(sandbox)
        _advance(clock)

        assert await engine_of(sandbox).probe_idle_sessions() == []
        assert [row.state for row in await _sessions(sandbox)] == ["live"]
        assert (await sandbox.client.login(login["id"]))["status"] == "succeeded"


def _advance(clock: ManualClock) -> None:
    clock.advance(IDLE + 1)


def test_a_keepalive_interval_that_is_not_positive_stops_start_up() -> None:
    with pytest.raises(SettingsError, match="BANSHUI_KEEPALIVE_SECONDS"):
        load_settings(keepalive_seconds=0)
