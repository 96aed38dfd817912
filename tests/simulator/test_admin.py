"""The admin API: reset and seed, the clock, separate apps, refusals of bad setup."""

import httpx
from fastapi import FastAPI

from banshui.simulator import SimConfig, create_app

from .cast import S1, S2, TAX_A, ZHANG_ID, ZHANG_REAL, Cast, admin, enrol
from .steps import (
    latest_code,
    log_in,
    move_clock,
    outbox,
    password_step,
    send_code,
    session,
    start,
)


async def _codes_after_reset(bureau: httpx.AsyncClient, seed: int) -> list[str]:
    await admin(bureau, "POST", "/admin/reset", {"seed": seed})
    await enrol(bureau)
    flow_id = await start(bureau)

    codes = []
    for _ in range(3):
        await send_code(bureau, flow_id)
        codes.append(await latest_code(bureau, S1))

    return [flow_id, *codes]


async def test_the_health_check_answers_ok(bureau: httpx.AsyncClient) -> None:
    response = await bureau.get("/healthz")

    assert response.json() == {"ok": True}


async def test_the_same_seed_gives_the_same_codes_after_a_reset(
    bureau: httpx.AsyncClient,
) -> None:
    first = await _codes_after_reset(bureau, 7)
    second = await _codes_after_reset(bureau, 7)
    other = await _codes_after_reset(bureau, 8)

    assert first == second
    assert other != first


async def test_a_reset_forgets_everything(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await log_in(bureau)

    assert await admin(bureau, "POST", "/admin/reset", {"seed": 1}) == {"seed": 1}

    assert await outbox(bureau) == []
    assert (await admin(bureau, "GET", "/admin/sessions"))["sessions"] == []
    assert (await admin(bureau, "GET", "/admin/clock"))["pinned"] is False
    answer = await password_step(bureau, TAX_A, S1, "x")
    assert answer["code"] == 2018


async def test_two_apps_keep_separate_state(sim_app: FastAPI) -> None:
    other_app = create_app(SimConfig())
    one = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim_app), base_url="http://a"
    )
    two = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other_app), base_url="http://b"
    )

    async with one, two:
        await enrol(one)
        answer = await admin(two, "GET", "/admin/clock")

        assert answer["pinned"] is False
        assert (await password_step(two, TAX_A, S1, "x"))["code"] == 2018


async def test_the_clock_can_be_pinned_moved_and_released(
    bureau: httpx.AsyncClient,
) -> None:
    pinned = await admin(
        bureau, "PUT", "/admin/clock", {"pinned": "2026-12-03T02:00:00Z"}
    )
    moved = await admin(bureau, "PUT", "/admin/clock", {"advance_seconds": 90})
    released = await admin(bureau, "PUT", "/admin/clock", {"pinned": None})

    assert pinned == {"now": "2026-12-03T10:00:00+08:00", "pinned": True}
    assert moved == {"now": "2026-12-03T10:01:30+08:00", "pinned": True}
    assert released["pinned"] is False


async def test_a_clock_pinned_without_an_offset_is_refused(
    bureau: httpx.AsyncClient,
) -> None:
    body = {"pinned": "2026-12-03T10:00:00"}
    response = await bureau.put("/admin/clock", json=body)

    assert response.status_code == 422


async def test_an_enterprise_of_an_unknown_region_is_refused(
    bureau: httpx.AsyncClient,
) -> None:
    body = {"tax_id": TAX_A, "name": "某公司", "region": "99"}
    response = await bureau.post("/admin/enterprises", json=body)

    assert response.status_code == 422
    assert "99" in response.text


async def test_a_second_enterprise_with_the_same_tax_id_is_a_conflict(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"tax_id": TAX_A, "name": "某公司", "region": "4403"}
    response = await bureau.post("/admin/enterprises", json=body)

    assert response.status_code == 409
    assert TAX_A in response.json()["detail"]


async def test_an_unknown_identity_code_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"person_id": cast.zhang, "tax_id": TAX_A, "identity_code": "04"}
    response = await bureau.post("/admin/relations", json=body)

    assert response.status_code == 422


async def test_the_violations_start_at_zero(bureau: httpx.AsyncClient) -> None:
    answer = await admin(bureau, "GET", "/admin/violations")

    assert answer == {
        "lease_broken": 0,
        "code_reused": 0,
        "over_quota_requests": 0,
        "total": 0,
    }


async def test_a_reset_without_a_body_uses_the_configured_seed(
    bureau: httpx.AsyncClient,
) -> None:
    response = await bureau.post("/admin/reset")

    assert response.json() == {"seed": 1}


async def test_a_person_is_shown_with_their_phones_and_which_is_default(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    by_id = await admin(bureau, "GET", f"/admin/persons/{cast.zhang}")
    by_id_number = await admin(bureau, "GET", f"/admin/persons/{ZHANG_ID}")

    assert by_id == by_id_number
    assert by_id == {
        "person_id": cast.zhang,
        "name": "张三",
        "id_number": ZHANG_ID,
        "phones": [
            {"phone": ZHANG_REAL, "default": True},
            {"phone": S1, "default": False},
            {"phone": S2, "default": False},
        ],
        "default_phone": ZHANG_REAL,
    }


async def test_an_unknown_person_is_a_404(bureau: httpx.AsyncClient) -> None:
    response = await bureau.get("/admin/persons/P0404")

    assert response.status_code == 404


async def test_the_idle_time_out_can_be_set_for_the_run(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await admin(bureau, "PUT", "/admin/config", {"session_idle_seconds": 60})
    token = await log_in(bureau)
    await move_clock(bureau, 59)
    alive = await session(bureau, token)
    await move_clock(bureau, 60)

    assert answer == {"session_idle_seconds": 60, "flow_seconds": 600}
    assert alive["code"] == 1000
    assert (await session(bureau, token))["code"] == 2100


async def test_a_reset_brings_back_the_apps_own_settings(
    bureau: httpx.AsyncClient,
) -> None:
    await admin(bureau, "PUT", "/admin/config", {"session_idle_seconds": 60})

    await admin(bureau, "POST", "/admin/reset", {"seed": 1})

    config = await admin(bureau, "GET", "/admin/config")
    assert config == {"session_idle_seconds": 1800, "flow_seconds": 600}


async def test_settings_out_of_bounds_are_refused(bureau: httpx.AsyncClient) -> None:
    for body in ({"session_idle_seconds": 0}, {"code_valid_seconds": 60}):
        response = await bureau.put("/admin/config", json=body)
        assert response.status_code == 422, body
