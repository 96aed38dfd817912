"""The login API takes only sealed, signed, fresh requests from a known channel."""

import base64
import os
import time
from typing import Any

import httpx

from .cast import S1, TAX_A, TAX_C, ZHANG_PASSWORD, Cast
from .steps import call, client_for, start
from .tpass import Tpass, tpass

PASSWORD = "/api/login/password"


def _password_body(tax_id: str = TAX_A) -> dict[str, str]:
    return {
        "client_id": client_for(tax_id),
        "tax_id": tax_id,
        "account": S1,
        "password": ZHANG_PASSWORD,
    }


async def _opened(bureau: httpx.AsyncClient) -> Tpass:
    channel = tpass(bureau)
    await channel.open()
    return channel


async def _send(bureau: httpx.AsyncClient, path: str, sealed: object) -> Any:
    response = await bureau.post(path, json=sealed)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_sealed_request_gets_a_sealed_answer_signed_for_its_step(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)

    answer = await _send(bureau, PASSWORD, channel.envelope(PASSWORD, _password_body()))

    assert set(answer) == {"code", "channel", "datagram", "timestamp", "signature"}
    assert "flow_id" not in str(answer)
    assert channel.opened(PASSWORD, answer)["next"] == "sms"


async def test_a_tampered_datagram_is_refused_as_a_bad_signature(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    sealed = channel.envelope(PASSWORD, _password_body())
    raw = bytearray(base64.b64decode(sealed["datagram"]))
    raw[20] ^= 0x01
    sealed["datagram"] = base64.b64encode(bytes(raw)).decode()

    answer = await _send(bureau, PASSWORD, sealed)

    assert answer == {"code": 2111, "message": "请求签名校验失败"}


async def test_a_signature_made_with_another_key_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    sealed = channel.envelope(PASSWORD, _password_body())
    channel.mac_key = os.urandom(32)
    stamp, datagram = sealed["timestamp"], sealed["datagram"]
    sealed["signature"] = channel.sign("request", stamp, PASSWORD, datagram)

    answer = await _send(bureau, PASSWORD, sealed)

    assert answer["code"] == 2111


async def test_an_envelope_signed_for_one_step_is_refused_at_another(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    flow_id = await start(bureau)
    sealed = channel.envelope("/api/login/submit-code", {"flow_id": flow_id})

    answer = await _send(bureau, "/api/login/send-code", sealed)

    assert answer["code"] == 2111


async def test_a_stale_or_far_future_timestamp_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    now = int(time.time() * 1000)
    stale = channel.envelope(PASSWORD, _password_body(), timestamp=now - 301_000)
    future = channel.envelope(PASSWORD, _password_body(), timestamp=now + 301_000)
    recent = channel.envelope(PASSWORD, _password_body(), timestamp=now - 60_000)

    refused = await _send(bureau, PASSWORD, stale)
    ahead = await _send(bureau, PASSWORD, future)
    taken = await _send(bureau, PASSWORD, recent)

    assert refused == {
        "code": 2110,
        "message": "请求时间戳已过期，请校准系统时间后重试",
    }
    assert ahead["code"] == 2110
    assert taken["code"] == 1000


async def test_the_same_envelope_is_taken_once(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    sealed = channel.envelope(PASSWORD, _password_body())

    first = await _send(bureau, PASSWORD, sealed)
    again = await _send(bureau, PASSWORD, sealed)

    assert first["code"] == 1000
    assert again == {"code": 2114, "message": "请求重复提交，已拒绝"}


async def test_a_sealed_answer_cannot_be_sent_back_as_a_request(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    answer = await _send(bureau, PASSWORD, channel.envelope(PASSWORD, _password_body()))
    reflected = {key: answer[key] for key in ("channel", "datagram", "timestamp")}

    refused = await _send(
        bureau, PASSWORD, {**reflected, "signature": answer["signature"]}
    )

    assert refused["code"] == 2111


async def test_an_unknown_channel_is_refused_and_a_reset_forgets_every_channel(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    sealed = channel.envelope(PASSWORD, _password_body())
    invented = {**sealed, "channel": "0" * 32}

    unknown = await _send(bureau, PASSWORD, invented)
    await bureau.post("/admin/reset", json={"seed": 1})
    forgotten = await _send(bureau, PASSWORD, sealed)

    assert unknown == {"code": 2113, "message": "安全通道不存在或已失效，请重新建立"}
    assert forgotten["code"] == 2113


async def test_a_signed_datagram_that_is_not_sealed_json_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    channel = await _opened(bureau)
    stamp = int(time.time() * 1000)
    datagram = base64.b64encode(os.urandom(48)).decode()
    sealed = {
        "channel": channel.channel,
        "datagram": datagram,
        "timestamp": stamp,
        "signature": channel.sign("request", stamp, PASSWORD, datagram),
    }

    answer = await _send(bureau, PASSWORD, sealed)

    assert answer == {"code": 2112, "message": "请求报文解密失败"}


async def test_a_session_key_that_does_not_open_with_the_sites_key_is_refused(
    bureau: httpx.AsyncClient,
) -> None:
    garbage = "04" + os.urandom(160).hex()

    answer = await _send(bureau, "/api/login/channel", {"key": garbage})
    short = await _send(bureau, "/api/login/channel", {"key": "04ab"})

    assert answer == {"code": 2115, "message": "会话密钥解密失败"}
    assert short["code"] == 2115


async def test_the_public_key_is_an_uncompressed_sm2_point(
    bureau: httpx.AsyncClient,
) -> None:
    published = (await bureau.get("/api/login/public-key")).json()

    key = published["data"]["public_key"]
    assert published["data"]["algorithm"] == "SM2"
    assert (key[:2], len(bytes.fromhex(key))) == ("04", 65)


async def test_a_client_id_of_another_region_is_refused_naming_the_right_one(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {**_password_body(TAX_A), "client_id": client_for(TAX_C)}

    answer = await call(bureau, PASSWORD, body)

    assert answer == {"code": 2102, "message": "客户端标识有误，请从深圳电子税务局登录"}


async def test_an_unsealed_request_is_a_client_error(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    response = await bureau.post(PASSWORD, json=_password_body())

    assert response.status_code == 422
