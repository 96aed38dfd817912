"""Sessions: one per person and region (R4), confirmed identities (R7), time-outs."""

import httpx

from .cast import (
    HUBEI,
    S1,
    S2,
    SHENZHEN,
    TAX_A,
    TAX_B,
    TAX_C,
    TAX_D,
    ZHANG_ID,
    Cast,
    admin,
    relation,
)
from .steps import (
    call,
    choose_identity,
    latest_code,
    log_in,
    move_clock,
    password_step,
    send_code,
    session,
    start,
    submit_code,
    verified_flow,
    violations,
)
from .tpass import tpass


async def test_choosing_an_identity_opens_a_session_with_a_cookie(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await verified_flow(bureau)
    body = {"flow_id": flow_id, "tax_id": TAX_A, "identity_code": "03"}
    response = await tpass(bureau).post("/api/login/identity", body)
    data = tpass(bureau).opened("/api/login/identity", response.json())

    assert data["tax_id"] == TAX_A
    assert data["enterprise_name"] == "示例科技（深圳）有限公司"
    assert data["identity_code"] == "03"
    assert response.cookies["SIMSESSION"] == data["session_token"]

    by_cookie = await call(bureau, "/api/session")
    assert by_cookie["data"] == {
        "alive": True,
        "tax_id": TAX_A,
        "enterprise_name": "示例科技（深圳）有限公司",
        "identity_code": "03",
        "identity_name": "办税员",
        "region": SHENZHEN,
        "region_name": "深圳",
    }


async def test_the_identities_listed_are_those_of_the_flows_region(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await relation(bureau, cast.zhang, TAX_D, "02", confirmed=False)
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)

    answer = await submit_code(bureau, flow_id, await latest_code(bureau, S1))

    identities = answer["data"]["identities"]
    listed = {(i["tax_id"], i["identity_code"], i["confirmed"]) for i in identities}
    assert listed == {(TAX_A, "03", True), (TAX_B, "03", True), (TAX_D, "02", False)}
    assert {i["identity_name"] for i in identities} == {"办税员", "财务负责人"}


async def test_an_unconfirmed_relation_cannot_log_in(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await relation(bureau, cast.zhang, TAX_D, "02", confirmed=False)

    at_password = await password_step(bureau, TAX_D, S1)
    flow_id = await verified_flow(bureau)
    at_identity = await choose_identity(bureau, flow_id, TAX_D, "02")

    assert at_password["code"] == 2034
    assert at_identity["code"] == 2034
    assert "确认" in at_identity["message"]


async def test_an_identity_the_person_does_not_hold_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await verified_flow(bureau)

    assert (await choose_identity(bureau, flow_id, TAX_A, "01"))["code"] == 2034
    assert (await choose_identity(bureau, flow_id, TAX_C, "03"))["code"] == 2034
    assert (await choose_identity(bureau, flow_id, TAX_A, "03"))["code"] == 1000
    assert (await choose_identity(bureau, flow_id, TAX_A, "03"))["code"] == 2101


async def test_a_second_login_of_the_same_person_in_the_same_region_ends_the_first(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    first = await log_in(bureau, TAX_A, S1)
    second = await log_in(bureau, TAX_B, S2)

    assert (await session(bureau, first))["code"] == 2100
    assert (await session(bureau, second))["data"]["tax_id"] == TAX_B
    assert (await violations(bureau))["total"] == 0


async def test_a_login_in_another_region_leaves_the_first_session_alive(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    shenzhen = await log_in(bureau, TAX_A, S1)
    hubei = await log_in(bureau, TAX_C, S2)

    assert (await session(bureau, shenzhen))["data"]["region"] == SHENZHEN
    assert (await session(bureau, hubei))["data"]["region"] == HUBEI


async def test_ending_a_held_session_by_another_login_is_a_broken_lease(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    first = await log_in(bureau, TAX_A, S1)
    lease = {"session_token": first, "held": True}
    await admin(bureau, "POST", "/admin/leases", lease)

    await log_in(bureau, TAX_B, S2)

    assert (await violations(bureau))["lease_broken"] == 1


async def test_a_released_session_can_be_ended_without_a_violation(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    first = await log_in(bureau, TAX_A, S1)
    await admin(bureau, "POST", "/admin/leases", {"session_token": first, "held": True})
    await admin(
        bureau, "POST", "/admin/leases", {"session_token": first, "held": False}
    )

    await log_in(bureau, TAX_B, S2)

    assert (await violations(bureau))["total"] == 0


async def test_an_idle_session_expires_after_thirty_minutes(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau)
    await move_clock(bureau, 1800)

    answer = await session(bureau, token)

    assert answer == {"code": 2100, "message": "会话已失效，请重新登录"}


async def test_using_a_session_keeps_it_alive(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau)
    for _ in range(3):
        await move_clock(bureau, 1500)
        assert (await session(bureau, token))["code"] == 1000


async def test_a_dropped_session_is_ended(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau)

    body = {"id_number": ZHANG_ID, "region": SHENZHEN}
    dropped = await admin(bureau, "POST", "/admin/sessions/drop", body)

    assert dropped == {"dropped": 1}
    assert (await session(bureau, token))["code"] == 2100


async def test_a_business_page_needs_a_live_session(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau)
    headers = {"X-Sim-Session": token}

    page = (await bureau.get("/api/invoices/incoming", headers=headers)).json()
    await move_clock(bureau, 1800)
    late = (await bureau.get("/api/invoices/incoming", headers=headers)).json()

    assert page["code"] == 1000
    assert page["data"]["tax_id"] == TAX_A
    assert len(page["data"]["invoices"]) == 3
    assert late["code"] == 2100


async def test_a_request_without_a_session_is_refused_with_2100(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await call(bureau, "/api/session")

    assert answer["code"] == 2100


async def test_the_admin_lists_sessions_with_how_they_ended(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    first = await log_in(bureau, TAX_A, S1)
    await log_in(bureau, TAX_B, S2)

    listed = (await admin(bureau, "GET", "/admin/sessions"))["sessions"]

    assert isinstance(listed, list)
    ended = {s["session_token"]: s["ended"] for s in listed}
    assert ended[first] == "replaced"
    assert sorted(ended.values(), key=str) == [None, "replaced"]
