"""Faults, each behind its own switch, drawn from the one seed and all recorded."""

import time
from typing import Any

import httpx

from .cast import S1, SHENZHEN, TAX_A, Cast, admin, enrol
from .gateway import Gateway
from .steps import (
    client_for,
    log_in,
    outbox,
    password_step,
    send_code,
    session,
    start,
    violations,
)
from .tpass import tpass

ALL_OFF = {
    "sms_duplicate": 0.0,
    "sms_lose": 0.0,
    "sms_delay_ms": None,
    "sms_reorder": 0.0,
    "sms_reorder_hold_ms": 1000,
    "slow_ms": None,
    "error_5xx": 0.0,
    "person_not_found": 0.0,
    "session_drop": 0.0,
}


async def _switch_on(bureau: httpx.AsyncClient, **switches: object) -> dict[str, Any]:
    return await admin(bureau, "PUT", "/admin/faults", switches)


async def _fired(bureau: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await bureau.get("/admin/faults/fired")
    assert response.status_code == 200, response.text
    fired: list[dict[str, Any]] = response.json()
    return fired


def _zhangs_password_step() -> dict[str, str]:
    return {
        "client_id": client_for(TAX_A),
        "tax_id": TAX_A,
        "account": S1,
        "password": "Zhang#2026",
    }


async def _route(bureau: httpx.AsyncClient, gateway: Gateway) -> None:
    route = {"url": gateway.url, "kind": "smsforwarder", "secret": "s"}
    await admin(bureau, "PUT", f"/admin/deliveries/{S1}", route)


async def _drain(bureau: httpx.AsyncClient) -> None:
    await admin(bureau, "POST", "/admin/carrier/drain")


def _texts(gateway: Gateway) -> list[str]:
    return [post["content"].split("\n")[1] for post in gateway.posts]


async def test_no_fault_fires_unless_switched_on(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, gateway)
    token = await log_in(bureau)
    await session(bureau, token)
    await _drain(bureau)

    assert await admin(bureau, "GET", "/admin/faults") == ALL_OFF
    assert await _fired(bureau) == []
    assert len(gateway.posts) == 1


async def test_the_switches_answer_as_they_were_set(
    bureau: httpx.AsyncClient,
) -> None:
    answer = await _switch_on(bureau, sms_lose=0.25, slow_ms=[5, 10])

    assert answer == {**ALL_OFF, "sms_lose": 0.25, "slow_ms": [5, 10]}
    assert await admin(bureau, "GET", "/admin/faults") == answer


async def test_a_lost_sms_never_reaches_the_gateway(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, gateway)
    await _switch_on(bureau, sms_lose=1)

    await send_code(bureau, await start(bureau))
    await _drain(bureau)

    assert gateway.posts == []
    [sms] = await outbox(bureau)
    assert (sms["delivery"], sms["delivered"]) == ("lost", False)
    [fired] = await _fired(bureau)
    assert fired["fault"] == "sms_lose"
    assert (fired["phone"], fired["sms_id"]) == (S1, sms["id"])
    assert fired["at"] == "2026-12-03T10:00:00+08:00"


async def test_a_duplicated_sms_reaches_the_gateway_twice(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, gateway)
    await _switch_on(bureau, sms_duplicate=1)

    await send_code(bureau, await start(bureau))
    await gateway.wait_for(2)

    assert _texts(gateway)[0] == _texts(gateway)[1]
    assert [sms["text"] for sms in await outbox(bureau)] == _texts(gateway)[:1]
    assert [f["fault"] for f in await _fired(bureau)] == ["sms_duplicate"]


async def test_a_delayed_sms_arrives_late(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, gateway)
    await _switch_on(bureau, sms_delay_ms=[300, 300])

    sent_at = time.monotonic()
    await send_code(bureau, await start(bureau))
    await gateway.wait_for(1)

    assert time.monotonic() - sent_at >= 0.3
    [fired] = await _fired(bureau)
    assert fired["fault"] == "sms_delay_ms"
    assert "300 ms" in fired["detail"]


async def test_a_held_sms_arrives_after_the_one_sent_next(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, gateway)
    flow_id = await start(bureau)
    await _switch_on(bureau, sms_reorder=1, sms_reorder_hold_ms=5000)
    await send_code(bureau, flow_id)
    await _switch_on(bureau)

    await send_code(bureau, flow_id)
    await gateway.wait_for(2)

    sent = [sms["text"] for sms in await outbox(bureau)]
    assert _texts(gateway) == [sent[1], sent[0]]
    [fired] = await _fired(bureau)
    assert (fired["fault"], fired["sms_id"]) == ("sms_reorder", 1)


async def test_a_held_sms_with_none_after_it_is_let_go_after_its_hold(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, gateway)
    await _switch_on(bureau, sms_reorder=1, sms_reorder_hold_ms=50)

    await send_code(bureau, await start(bureau))

    assert len(await gateway.wait_for(1)) == 1


async def test_a_slow_bureau_answers_its_login_steps_late(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _switch_on(bureau, slow_ms=[150, 150])

    asked_at = time.monotonic()
    answer = await password_step(bureau)

    assert answer["code"] == 1000
    assert time.monotonic() - asked_at >= 0.15
    [fired] = await _fired(bureau)
    assert fired["fault"] == "slow_ms"
    assert fired["detail"] == "password answered 150 ms late"
    # The password step makes the flow: its lateness is recorded as the flow's.
    assert fired["flow_id"] == answer["data"]["flow_id"]


async def test_a_503_is_recorded_with_whether_the_step_took_effect(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await _switch_on(bureau, error_5xx=1)

    answers = [
        await tpass(bureau).post("/api/login/send-code", {"flow_id": flow_id})
        for _ in range(8)
    ]

    assert {answer.status_code for answer in answers} == {503}
    assert answers[0].json() == {"code": 503, "message": "系统繁忙，请稍后再试"}
    fired = await _fired(bureau)
    assert {f["fault"] for f in fired} == {"error_5xx"}
    assert {f["took_effect"] for f in fired} == {True, False}
    assert {(f["phone"], f["flow_id"]) for f in fired} == {(S1, flow_id)}
    took_effect = [f for f in fired if f["took_effect"]]
    assert len(await outbox(bureau)) == len(took_effect)
    assert took_effect[0]["detail"].startswith(
        "send-code answered 503 after it took effect: SMS "
    )
    assert [f["sms_id"] for f in took_effect] == [
        sms["id"] for sms in await outbox(bureau)
    ]


async def test_a_503_after_the_password_step_names_the_flow_it_made(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _switch_on(bureau, error_5xx=1)
    for _ in range(8):
        await tpass(bureau).post("/api/login/password", _zhangs_password_step())

    fired = await _fired(bureau)

    assert all(("flow_id" in f) == f["took_effect"] for f in fired)


async def test_the_transient_person_not_found_answers_2060_with_the_guides_text(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _switch_on(bureau, person_not_found=1)
    refused = await password_step(bureau)
    await _switch_on(bureau)

    retried = await password_step(bureau)

    assert refused == {
        "code": 2060,
        "message": "所查询的自然人信息不存在，请核验输入信息是否有误",
    }
    assert retried["code"] == 1000
    assert [f["fault"] for f in await _fired(bureau)] == ["person_not_found"]


async def test_a_person_logging_in_by_hand_is_not_met_by_the_password_fault(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _switch_on(bureau, person_not_found=1)
    body = {"phone": S1, "tax_id": TAX_A, "count": 2}

    answer = await admin(bureau, "POST", "/admin/manual-logins", body)

    assert answer["stopped"] is None
    assert await _fired(bureau) == []


async def test_a_session_check_may_find_the_session_dropped(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau)
    await admin(bureau, "POST", "/admin/leases", {"session_token": token, "held": True})
    await _switch_on(bureau, session_drop=1)

    answer = await session(bureau, token)

    assert answer["code"] == 2100
    [listed] = (await admin(bureau, "GET", "/admin/sessions"))["sessions"]
    assert listed["ended"] == "dropped"
    assert (await violations(bureau))["total"] == 0
    [fired] = await _fired(bureau)
    assert fired["fault"] == "session_drop"
    assert SHENZHEN in fired["detail"]


async def _a_faulty_morning(
    bureau: httpx.AsyncClient, gateway: Gateway, seed: int
) -> list[dict[str, Any]]:
    await admin(bureau, "POST", "/admin/reset", {"seed": seed})
    await enrol(bureau)
    await _route(bureau, gateway)
    token = await log_in(bureau)
    flow_id = await start(bureau)
    await _switch_on(
        bureau,
        sms_duplicate=0.5,
        sms_lose=0.5,
        sms_delay_ms=[1, 5],
        sms_reorder=0.5,
        sms_reorder_hold_ms=20,
        slow_ms=[1, 3],
        error_5xx=0.5,
        person_not_found=0.5,
        session_drop=0.3,
    )

    channel = tpass(bureau)
    for _ in range(3):
        await channel.post("/api/login/password", _zhangs_password_step())
    for _ in range(6):
        await channel.post("/api/login/send-code", {"flow_id": flow_id})
    for _ in range(4):
        await channel.post("/api/session", {}, {"X-Sim-Session": token})

    await _drain(bureau)
    return await _fired(bureau)


async def test_the_same_seed_and_calls_fire_the_same_faults(
    bureau: httpx.AsyncClient, gateway: Gateway
) -> None:
    first = await _a_faulty_morning(bureau, gateway, seed=11)
    second = await _a_faulty_morning(bureau, gateway, seed=11)
    other = await _a_faulty_morning(bureau, gateway, seed=12)

    assert first == second
    assert other != first
    faults = {f["fault"] for f in first}
    assert {"slow_ms", "error_5xx", "sms_delay_ms"} <= faults


async def test_a_fault_switched_on_leaves_the_codes_as_they_were(
    bureau: httpx.AsyncClient, gateway: Gateway
) -> None:
    codes = []
    for switches in ({}, {"sms_duplicate": 1.0, "slow_ms": [1, 2]}):
        await admin(bureau, "POST", "/admin/reset", {"seed": 3})
        await enrol(bureau)
        await _switch_on(bureau, **switches)
        await send_code(bureau, await start(bureau))
        codes.append([sms["text"] for sms in await outbox(bureau)])

    assert codes[0] == codes[1]


async def test_a_reset_switches_every_fault_off_and_forgets_what_fired(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _switch_on(bureau, person_not_found=1)
    await password_step(bureau)

    await admin(bureau, "POST", "/admin/reset", {"seed": 1})

    assert await _fired(bureau) == []
    assert await admin(bureau, "GET", "/admin/faults") == ALL_OFF


async def test_switches_out_of_their_bounds_are_refused(
    bureau: httpx.AsyncClient,
) -> None:
    bodies: list[dict[str, object]] = [
        {"sms_lose": 1.5},
        {"error_5xx": -0.1},
        {"slow_ms": [10, 5]},
        {"sms_delay_ms": [1, 2, 3]},
        {"sms_delay_ms": [0, 120_000]},
        {"no_such_fault": 1},
    ]

    for body in bodies:
        response = await bureau.put("/admin/faults", json=body)
        assert response.status_code == 422, body
