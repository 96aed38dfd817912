"""A property of the lanes (R4): whatever the interleaving of a few requests of one
person, in one lane or two, no lease is ever broken and no code is used twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banshui.demo.cast import A, B, C

from .conftest import CastOn, Login, Sandbox, ask, hold, violations

COMPANIES = {"A": A, "B": B, "C": C}  # A and B share 张三's 深圳 lane; C is 湖北
MOST = 4


@pytest.fixture
async def lanes(cast_on: CastOn) -> AsyncIterator[Sandbox]:
    # One stack for every example: sessions kept by one are met by the next.
    async with cast_on() as sandbox:
        yield sandbox


async def _succeeded(sandbox: Sandbox, open_ids: list[str]) -> list[Login]:
    now = [await sandbox.client.login(login_id) for login_id in open_ids]
    failed = [login for login in now if login["status"] not in _GOING]
    assert not failed, failed
    return [login for login in now if login["status"] == "succeeded"]


_GOING = {"queued", "waiting_lane", "requesting_code", "waiting_code"} | {
    "submitting",
    "succeeded",
}


async def _serve_all(
    sandbox: Sandbox, asked: list[Login], release_order: list[int]
) -> None:
    """Hold each session while its lease runs, as the RPA would; release in order."""
    rank = {login["id"]: release_order.index(i) for i, login in enumerate(asked)}
    open_ids = [login["id"] for login in asked]
    held: set[str] = set()
    async with asyncio.timeout(30):
        while open_ids:
            done = await _succeeded(sandbox, open_ids)
            for login in done:
                if login["id"] not in held:
                    await hold(sandbox, login["id"], True)
                    held.add(login["id"])
            if not done:
                await asyncio.sleep(0.01)
                continue
            first = min(done, key=lambda login: rank[login["id"]])
            await hold(sandbox, first["id"], False)
            await sandbox.client.release(first["id"])
            open_ids.remove(first["id"])


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    picks=st.lists(st.sampled_from(sorted(COMPANIES)), min_size=2, max_size=MOST),
    release_order=st.permutations(range(MOST)),
    pauses=st.lists(st.sampled_from([0.0, 0.005, 0.03]), min_size=MOST, max_size=MOST),
)
async def test_no_interleaving_breaks_a_lease_or_uses_a_code_twice(
    lanes: Sandbox,
    picks: list[str],
    release_order: list[int],
    pauses: list[float],
) -> None:
    asked = []
    for pick, pause in zip(picks, pauses, strict=False):
        asked.append(await ask(lanes, COMPANIES[pick]))
        await asyncio.sleep(pause)
    order = [i for i in release_order if i < len(asked)]

    await _serve_all(lanes, asked, order)

    counted = await violations(lanes)
    assert (counted["lease_broken"], counted["code_reused"]) == (0, 0)
    assert counted["total"] == 0
