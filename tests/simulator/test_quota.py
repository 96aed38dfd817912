"""R3: at most 20 codes per phone per Asia/Shanghai day, the 21st refused."""

import httpx

from .cast import S1, S2, TAX_A, Cast, admin
from .steps import log_in, move_clock, send_code, start, violations


async def _use_up(bureau: httpx.AsyncClient, flow_id: str, count: int = 20) -> None:
    for _ in range(count):
        assert (await send_code(bureau, flow_id))["code"] == 1000


async def test_the_twenty_first_code_of_the_day_is_refused_and_counted(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await _use_up(bureau, flow_id)

    answer = await send_code(bureau, flow_id)

    assert answer["code"] == 2040
    assert "上限" in answer["message"]
    assert (await violations(bureau))["over_quota_requests"] == 1
    assert (await violations(bureau))["total"] == 1


async def test_the_limit_counts_codes_of_every_flow_on_that_phone(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _use_up(bureau, await start(bureau), count=10)
    await _use_up(bureau, await start(bureau), count=10)

    answer = await send_code(bureau, await start(bureau))

    assert answer["code"] == 2040


async def test_one_phones_codes_leave_the_other_phones_quota_alone(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _use_up(bureau, await start(bureau, TAX_A, S1))

    assert await log_in(bureau, TAX_A, S2)
    assert (await violations(bureau))["total"] == 0


async def test_the_daily_count_starts_again_at_midnight_in_shanghai(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await admin(bureau, "PUT", "/admin/clock", {"pinned": "2026-12-03T23:59:00+08:00"})
    flow_id = await start(bureau)
    await _use_up(bureau, flow_id)
    assert (await send_code(bureau, flow_id))["code"] == 2040

    await move_clock(bureau, 60)

    assert (await send_code(bureau, flow_id))["code"] == 1000


async def test_the_day_is_the_shanghai_day_not_the_utc_day(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    # 07:59 in Shanghai is 23:59 UTC: two minutes later only the UTC day changed.
    await admin(bureau, "PUT", "/admin/clock", {"pinned": "2026-12-03T07:59:00+08:00"})
    flow_id = await start(bureau)
    await _use_up(bureau, flow_id)

    await move_clock(bureau, 120)

    assert (await send_code(bureau, flow_id))["code"] == 2040


async def test_the_stats_show_what_is_left_of_the_day(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _use_up(bureau, await start(bureau), count=3)

    stats = await admin(bureau, "GET", "/admin/stats")

    assert stats["day"] == "2026-12-03"
    assert stats["phones"] == {
        S1: {"banshui": 3, "manual": 0, "portal": 0, "total": 3, "left": 17}
    }
