"""The carrier posts each SMS to its phone's gateway in the SmsForwarder format."""

import asyncio
import base64
import hashlib
import hmac
import time
from datetime import datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from banshui.simulator import SimConfig, create_app
from banshui.simulator.carrier import Carrier
from banshui.simulator.state import Delivery, Sms

from .cast import S1, S2, TAX_A, TAX_C, Cast, admin, enrol
from .gateway import Gateway
from .steps import latest_code, log_in, outbox, send_code, start, submit_code

SECRET = "gateway-secret-for-s1"


async def _route(
    bureau: httpx.AsyncClient, phone: str, url: str, **extra: object
) -> None:
    body = {"url": url, "kind": "smsforwarder", "slot": 2, "device_mark": "Pixel-7"}
    await admin(bureau, "PUT", f"/admin/deliveries/{phone}", {**body, **extra})


def _independent_sign(timestamp: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


async def test_an_sms_reaches_the_gateway_in_the_smsforwarder_form(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S1, gateway.url, secret=SECRET)
    await send_code(bureau, await start(bureau))

    [post] = await gateway.wait_for(1)

    assert set(post) == {"from", "content", "timestamp", "sign"}
    assert post["from"] == "12366"
    sender, text, slot, received, device = post["content"].split("\n")
    assert sender == "12366"
    assert text.startswith("【深圳税务】您的验证码是：")
    assert slot == f"SIM2_中国移动_{S1}"
    assert device == "Pixel-7"
    assert datetime.strptime(received, "%Y-%m-%d %H:%M:%S")


async def test_the_sign_matches_an_independent_computation(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S1, gateway.url, secret=SECRET)
    await send_code(bureau, await start(bureau))

    [post] = await gateway.wait_for(1)

    # The app URL-encodes the sign itself; the form encoding comes on top of that.
    expected = _independent_sign(post["timestamp"], SECRET)
    assert hmac.compare_digest(unquote(post["sign"]), expected)
    assert post["sign"] != expected or "%" not in post["sign"]


async def test_the_phone_stamps_wall_clock_time_not_the_bureaus(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S1, gateway.url, secret=SECRET)
    await send_code(bureau, await start(bureau))

    [post] = await gateway.wait_for(1)

    received = post["content"].split("\n")[3]
    local = datetime.strptime(received, "%Y-%m-%d %H:%M:%S")
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(now - local) < timedelta(seconds=5)
    assert abs(int(post["timestamp"]) - time.time() * 1000) < 5000
    assert (await outbox(bureau))[0]["sent_at"] == "2026-12-03T10:00:00+08:00"


async def test_a_code_read_at_the_gateway_logs_in(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S1, gateway.url, secret=SECRET)
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)

    [post] = await gateway.wait_for(1)
    code = post["content"].split("\n")[1].split("：")[1][:6]

    assert (await submit_code(bureau, flow_id, code))["code"] == 1000
    sent = await outbox(bureau)
    assert sent[0]["delivery"] == "delivered"
    assert sent[0]["delivered"] is True
    assert sent[0]["attempts"] == 1


async def test_sms_to_one_phone_arrive_in_the_order_sent(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S1, gateway.url, secret=SECRET)
    flow_id = await start(bureau)
    for _ in range(6):
        await send_code(bureau, flow_id)

    posts = await gateway.wait_for(6)

    texts = [post["content"].split("\n")[1] for post in posts]
    assert texts == [sms["text"] for sms in await outbox(bureau, S1)]


async def test_a_hubei_sms_quotes_the_tax_id_besides_the_code(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S2, gateway.url)
    await send_code(bureau, await start(bureau, TAX_C, S2))

    [post] = await gateway.wait_for(1)

    text = post["content"].split("\n")[1]
    assert text.startswith("【湖北税务】")
    assert TAX_C in text
    assert f"验证码为{await latest_code(bureau, S2)}" in text


async def test_without_a_secret_no_sign_is_sent(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, S1, gateway.url)
    await send_code(bureau, await start(bureau))

    [post] = await gateway.wait_for(1)

    assert set(post) == {"from", "content", "timestamp"}


async def test_a_gateway_that_fails_once_gets_the_very_same_request_again(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    gateway.refuse_next = 1
    await _route(bureau, S1, gateway.url, secret=SECRET)
    await send_code(bureau, await start(bureau))

    [post] = await gateway.wait_for(1)
    await admin(bureau, "POST", "/admin/carrier/drain")

    assert len(gateway.refused) == 1
    assert hmac.compare_digest(
        unquote(post["sign"]), _independent_sign(post["timestamp"], SECRET)
    )
    assert (await outbox(bureau))[0]["attempts"] == 2


async def test_a_gateway_that_keeps_failing_leaves_the_sms_recorded_as_failed(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    gateway.refuse_next = 100
    await _route(bureau, S1, gateway.url)
    await send_code(bureau, await start(bureau))

    await admin(bureau, "POST", "/admin/carrier/drain")

    [sms] = await outbox(bureau)
    assert (sms["delivery"], sms["delivered"], sms["attempts"]) == ("failed", False, 4)
    assert len(gateway.refused) == 4


async def test_an_unreachable_gateway_does_not_break_the_bureau(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _route(bureau, S1, "http://127.0.0.1:9/hook")
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    await admin(bureau, "POST", "/admin/carrier/drain")

    answer = await submit_code(bureau, flow_id, await latest_code(bureau, S1))

    assert answer["code"] == 1000
    assert (await outbox(bureau))[0]["delivery"] == "failed"
    assert (await bureau.get("/healthz")).json() == {"ok": True}


async def test_an_sms_to_a_phone_without_delivery_stays_in_the_outbox(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    assert await log_in(bureau)

    [sms] = await outbox(bureau)

    assert (sms["delivery"], sms["attempts"], sms["cause"]) == ("kept", 0, "banshui")


async def test_closing_the_app_cancels_deliveries_still_waiting() -> None:
    app: FastAPI = create_app(SimConfig(delivery_delay_ms=60_000))
    transport = httpx.ASGITransport(app=app)
    sim = httpx.AsyncClient(transport=transport, base_url="http://sim")

    async with sim:
        async with app.router.lifespan_context(app):
            await enrol(sim)
            await _route(sim, S1, "http://127.0.0.1:9/hook")
            await send_code(sim, await start(sim, TAX_A, S1))

        # Had the delivery outlived the app, draining would wait out its minute.
        async with asyncio.timeout(1):
            await admin(sim, "POST", "/admin/carrier/drain")
        assert (await outbox(sim))[0]["delivery"] == "pending"


async def test_two_sms_of_one_phone_sent_in_one_instant_are_signed_apart(
    gateway: Gateway,
) -> None:
    # A frozen wall clock: both SMS go out in what the clock calls one moment.
    moment = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    carrier = Carrier(SimConfig(delivery_delay_ms=0), wall=lambda: moment)
    delivery = Delivery(
        url=gateway.url,
        kind="smsforwarder",
        secret=SECRET,
        slot=1,
        device_mark="Pixel-7",
        carrier_name="中国移动",
    )
    try:
        for sms_id, code in ((1, "111111"), (2, "222222")):
            sms = Sms(sms_id, S1, "12366", f"验证码：{code}", moment, "banshui")
            carrier.hand_over(sms, delivery)
        posts = await gateway.wait_for(2)
    finally:
        await carrier.aclose()

    # The app sends one after the other; signed alike, the second would be
    # refused as a replay of the first with other content.
    assert len({post["timestamp"] for post in posts}) == 2
    assert len({post["sign"] for post in posts}) == 2
