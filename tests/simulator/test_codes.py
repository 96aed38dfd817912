"""Codes: six digits, valid five minutes, single use, five wrong tries lock them."""

import httpx

from .cast import S1, TAX_A, Cast, admin
from .steps import (
    choose_identity,
    latest_code,
    move_clock,
    outbox,
    send_code,
    start,
    submit_code,
    verified_flow,
    violations,
)


async def test_sending_a_code_says_how_long_it_is_valid(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await send_code(bureau, await start(bureau))

    assert answer == {"code": 1000, "data": {"sent": True, "valid_seconds": 300}}
    code = await latest_code(bureau, S1)
    assert len(code) == 6 and code.isdigit()


async def test_a_right_code_lists_the_identities(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)

    answer = await submit_code(bureau, flow_id, await latest_code(bureau, S1))

    assert answer["code"] == 1000
    assert answer["data"]["next"] == "identity"
    assert answer["data"]["identities"]


async def test_a_code_is_accepted_once_and_its_reuse_is_counted(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await verified_flow(bureau)
    code = await latest_code(bureau, S1)

    answer = await submit_code(bureau, flow_id, code)

    assert answer["code"] == 2042
    assert (await violations(bureau))["code_reused"] == 1


async def test_a_used_code_handed_to_another_flow_is_a_reuse(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await verified_flow(bureau)
    used = await latest_code(bureau, S1)
    second = await start(bureau)
    await send_code(bureau, second)

    answer = await submit_code(bureau, second, used)

    assert answer["code"] == 2042
    assert (await violations(bureau))["code_reused"] == 1


async def test_a_code_expires_after_five_minutes(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    await move_clock(bureau, 300)

    answer = await submit_code(bureau, flow_id, await latest_code(bureau, S1))

    assert answer == {"code": 2042, "message": "验证码已失效，请重新获取"}
    assert (await violations(bureau))["total"] == 0


async def test_a_code_is_still_good_just_before_five_minutes(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    await move_clock(bureau, 299)

    answer = await submit_code(bureau, flow_id, await latest_code(bureau, S1))

    assert answer["code"] == 1000


async def test_a_new_code_replaces_the_previous_one(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    first = await latest_code(bureau, S1)
    await send_code(bureau, flow_id)
    second = await latest_code(bureau, S1)

    assert (await submit_code(bureau, flow_id, first))["code"] == 2042
    assert (await submit_code(bureau, flow_id, second))["code"] == 1000


async def test_five_wrong_codes_lock_the_flow(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    right = await latest_code(bureau, S1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    answers = [await submit_code(bureau, flow_id, wrong) for _ in range(5)]

    assert [answer["code"] for answer in answers] == [2041, 2041, 2041, 2041, 2023]
    assert answers[0]["message"].startswith("验证码错误")
    assert "错误次数过多" in answers[4]["message"]
    assert (await submit_code(bureau, flow_id, right))["code"] == 2023
    assert (await send_code(bureau, flow_id))["code"] == 2023


async def test_a_locked_flow_leaves_a_new_login_free(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    for _ in range(5):
        await submit_code(bureau, flow_id, "000000x")

    assert await verified_flow(bureau)


async def test_an_unknown_flow_is_refused_with_2101(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    assert (await send_code(bureau, "no-such-flow"))["code"] == 2101
    assert (await submit_code(bureau, "no-such-flow", "123456"))["code"] == 2101
    assert (await choose_identity(bureau, "no-such-flow", TAX_A))["code"] == 2101


async def test_the_identity_step_needs_the_code_first(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)

    answer = await choose_identity(bureau, flow_id, TAX_A)

    assert answer["code"] == 2101
    assert await outbox(bureau, S1)


async def test_a_flow_left_for_ten_minutes_is_unknown(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    fresh = await start(bureau)
    old = await start(bureau)
    await move_clock(bureau, 599)
    assert (await send_code(bureau, fresh))["code"] == 1000

    await move_clock(bureau, 1)

    assert (await send_code(bureau, old))["code"] == 2101
    assert (await submit_code(bureau, fresh, await latest_code(bureau, S1)))[
        "code"
    ] == 2101


async def test_the_flows_time_limit_can_be_set_for_the_run(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await admin(bureau, "PUT", "/admin/config", {"flow_seconds": 60})
    flow_id = await start(bureau)

    await move_clock(bureau, 60)

    assert (await send_code(bureau, flow_id))["code"] == 2101
