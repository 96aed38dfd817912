"""R12: after the password a region asks for the SMS step, a slider, or nothing."""

from typing import Any

import httpx

from .cast import (
    HUBEI,
    S1,
    SHENZHEN,
    TAX_A,
    TAX_B,
    TAX_C,
    ZHANG_ID,
    ZHANG_REAL,
    Cast,
    admin,
    enrol,
    phone,
)
from .steps import (
    call,
    choose_identity,
    latest_code,
    outbox,
    password_step,
    send_code,
    session,
    submit_code,
)


async def _region_logs_in(bureau: httpx.AsyncClient, region: str, login: str) -> None:
    await admin(bureau, "PUT", f"/admin/regions/{region}", {"login": login})


async def _slider_answer(bureau: httpx.AsyncClient, challenge_id: str) -> int:
    answer = (await bureau.get(f"/api/login/slider/{challenge_id}")).json()
    assert answer["code"] == 1000, answer
    return int(answer["data"]["offset"])


async def _slide(
    bureau: httpx.AsyncClient, flow_id: str, offset: int
) -> dict[str, Any]:
    body = {"flow_id": flow_id, "offset": offset}
    return await call(bureau, "/api/login/slider", body)


async def test_a_region_left_alone_still_asks_for_the_sms_step(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau)

    assert answer["data"]["next"] == "sms"
    listed = (await admin(bureau, "GET", "/admin/regions"))["regions"]
    assert {region["login"] for region in listed} == {"sms"}


async def test_a_session_region_lists_the_identities_right_after_the_password(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "session")

    answer = await password_step(bureau)
    flow_id = answer["data"]["flow_id"]
    chosen = await choose_identity(bureau, flow_id, TAX_A)

    assert answer["data"]["next"] == "identity"
    assert [i["tax_id"] for i in answer["data"]["identities"]] == [TAX_A, TAX_B]
    assert chosen["code"] == 1000
    assert (await session(bureau, chosen["data"]["session_token"]))["code"] == 1000
    assert await outbox(bureau) == []


async def test_a_session_region_has_no_code_to_send(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "session")
    flow_id = (await password_step(bureau))["data"]["flow_id"]

    assert (await send_code(bureau, flow_id))["code"] == 2101
    assert await outbox(bureau) == []


async def test_a_session_region_needs_no_default_phone_for_an_id_number(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "session")
    await phone(bureau, cast.li, ZHANG_REAL)

    answer = await password_step(bureau, TAX_A, ZHANG_ID)

    assert answer["data"]["next"] == "identity"


async def test_only_the_configured_region_changes(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, HUBEI, "session")

    assert (await password_step(bureau, TAX_C))["data"]["next"] == "identity"
    assert (await password_step(bureau, TAX_A))["data"]["next"] == "sms"


async def test_a_slider_region_asks_for_the_slider_before_the_sms_step(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "slider_sms")

    answer = await password_step(bureau)

    data = answer["data"]
    assert data["next"] == "slider"
    assert set(data["slider"]) == {"challenge_id", "width"}
    assert data["slider"]["width"] == 300
    assert (await send_code(bureau, data["flow_id"]))["code"] == 2101


async def test_the_solved_slider_leads_to_the_sms_step_and_a_session(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "slider_sms")
    data = (await password_step(bureau))["data"]
    offset = await _slider_answer(bureau, data["slider"]["challenge_id"])

    slid = await _slide(bureau, data["flow_id"], offset)
    await send_code(bureau, data["flow_id"])
    code = await latest_code(bureau, S1)
    submitted = await submit_code(bureau, data["flow_id"], code)
    chosen = await choose_identity(bureau, data["flow_id"], TAX_A)

    assert slid["data"] == {
        "next": "sms",
        "flow_id": data["flow_id"],
        "phone_masked": "131****0001",
    }
    assert submitted["code"] == 1000
    assert chosen["code"] == 1000


async def test_a_slider_dragged_to_the_wrong_place_is_refused_with_2050(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "slider_sms")
    data = (await password_step(bureau))["data"]
    offset = await _slider_answer(bureau, data["slider"]["challenge_id"])

    wrong = await _slide(bureau, data["flow_id"], offset + 20)
    close_enough = await _slide(bureau, data["flow_id"], offset + 3)
    again = await _slide(bureau, data["flow_id"], offset)

    assert wrong["code"] == 2050
    assert "滑块" in wrong["message"]
    assert close_enough["code"] == 1000
    assert again["code"] == 2101


async def test_an_unknown_slider_challenge_is_refused_with_2101(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = (await bureau.get("/api/login/slider/no-such-challenge")).json()

    assert answer["code"] == 2101


async def test_the_same_seed_places_the_slider_the_same(
    bureau: httpx.AsyncClient,
) -> None:
    offsets = []
    for _ in range(2):
        await admin(bureau, "POST", "/admin/reset", {"seed": 4})
        await enrol(bureau)
        await _region_logs_in(bureau, SHENZHEN, "slider_sms")
        data = (await password_step(bureau))["data"]
        offsets.append(await _slider_answer(bureau, data["slider"]["challenge_id"]))

    assert offsets[0] == offsets[1]


async def test_logging_in_by_hand_in_a_session_region_costs_no_sms(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "session")
    body = {"phone": S1, "tax_id": TAX_A, "count": 3}

    answer = await admin(bureau, "POST", "/admin/manual-logins", body)

    assert answer == {"sms_sent": 0, "logins": 3, "stopped": None}
    assert await outbox(bureau) == []


async def test_logging_in_by_hand_in_a_slider_region_still_costs_an_sms_each(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "slider_sms")
    body = {"phone": S1, "tax_id": TAX_A, "count": 2}

    answer = await admin(bureau, "POST", "/admin/manual-logins", body)

    assert answer["sms_sent"] == 2


async def test_the_admin_answers_with_the_regions_login(
    bureau: httpx.AsyncClient,
) -> None:
    answer = await admin(bureau, "PUT", "/admin/regions/31", {"login": "slider_sms"})
    listed = (await admin(bureau, "GET", "/admin/regions"))["regions"]

    assert answer == {"region": "31", "region_name": "上海", "login": "slider_sms"}
    assert {"region": "31", "region_name": "上海", "login": "slider_sms"} in listed
    assert len(listed) == 36


async def test_an_unknown_region_or_login_cannot_be_configured(
    bureau: httpx.AsyncClient,
) -> None:
    unknown_region = await bureau.put("/admin/regions/99", json={"login": "sms"})
    unknown_login = await bureau.put("/admin/regions/31", json={"login": "qr"})

    assert unknown_region.status_code == 422
    assert unknown_login.status_code == 422


async def test_a_reset_brings_every_region_back_to_the_sms_step(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _region_logs_in(bureau, SHENZHEN, "session")

    await admin(bureau, "POST", "/admin/reset", {"seed": 1})

    listed = (await admin(bureau, "GET", "/admin/regions"))["regions"]
    assert {region["login"] for region in listed} == {"sms"}
