"""A person logging in by hand costs SMS, ends banshui's session (R4), uses quota."""

from typing import Any

import httpx

from .cast import LI_REAL, S1, S2, SHENZHEN, TAX_A, Cast, admin
from .gateway import Gateway
from .steps import log_in, outbox, send_code, session, start, violations


async def _by_hand(
    bureau: httpx.AsyncClient, count: int, phone: str = S1
) -> dict[str, Any]:
    body = {"phone": phone, "tax_id": TAX_A, "count": count}
    return await admin(bureau, "POST", "/admin/manual-logins", body)


async def test_manual_logins_are_delivered_before_the_answer(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    route = {"url": gateway.url, "secret": "s", "slot": 1, "device_mark": "m"}
    await admin(bureau, "PUT", f"/admin/deliveries/{S1}", route)

    answer = await _by_hand(bureau, 17)

    assert answer == {"sms_sent": 17, "logins": 17, "stopped": None}
    assert len(gateway.posts) == 17
    sent = await outbox(bureau, S1)
    assert {(sms["cause"], sms["delivery"]) for sms in sent} == {
        ("manual", "delivered")
    }


async def test_manual_logins_end_banshuis_session_in_that_region(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau, TAX_A, S2)

    await _by_hand(bureau, 1)

    assert (await session(bureau, token))["code"] == 2100
    assert (await violations(bureau))["total"] == 0


async def test_a_manual_login_ending_a_held_session_breaks_the_lease(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau, TAX_A, S2)
    await admin(bureau, "POST", "/admin/leases", {"session_token": token, "held": True})

    await _by_hand(bureau, 3)

    assert (await violations(bureau))["lease_broken"] == 1


async def test_manual_logins_use_the_phones_daily_quota(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await send_code(bureau, await start(bureau))
    await send_code(bureau, await start(bureau))
    await send_code(bureau, await start(bureau))

    await _by_hand(bureau, 17)

    assert (await send_code(bureau, await start(bureau)))["code"] == 2040
    stats = await admin(bureau, "GET", "/admin/stats")
    assert stats["phones"] == {
        S1: {"banshui": 3, "manual": 17, "portal": 0, "total": 20, "left": 0}
    }


async def test_manual_logins_stop_at_the_daily_limit_without_a_violation(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await _by_hand(bureau, 25)

    assert answer["sms_sent"] == 20
    assert answer["stopped"] == {"code": 2040, "message": answer["stopped"]["message"]}
    assert (await violations(bureau))["total"] == 0


async def test_manual_logins_for_an_enterprise_without_relation_send_nothing(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await _by_hand(bureau, 2, phone=LI_REAL)

    assert answer["sms_sent"] == 0
    assert answer["stopped"]["code"] == 2034


async def test_manual_logins_on_a_phone_nobody_owns_are_refused_with_404(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"phone": "13700000000", "tax_id": TAX_A, "count": 1}
    response = await bureau.post("/admin/manual-logins", json=body)

    assert response.status_code == 404


async def test_the_sessions_dropped_are_only_those_of_that_region(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"id_number": "440301199001011234", "region": SHENZHEN}
    assert await admin(bureau, "POST", "/admin/sessions/drop", body) == {"dropped": 0}
