"""The carrier speaks every gateway's format, each signed the way that gateway signs.

Each signature is checked here by code written apart from the simulator's (for
Twilio, by the official package's RequestValidator).
"""

import hashlib
import hmac
import json
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from twilio.request_validator import RequestValidator

from .cast import S1, Cast, admin
from .gateway import Gateway, Received
from .steps import outbox, send_code, start

SECRET = "a-gateway-secret"
PUBLIC = "https://banshui.example/hooks/sms/twilio/s1"
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


async def _route(
    bureau: httpx.AsyncClient, kind: str, url: str, **extra: object
) -> None:
    body = {"url": url, "kind": kind, "secret": SECRET, "slot": 2, **extra}
    answer = await admin(bureau, "PUT", f"/admin/deliveries/{S1}", body)
    assert answer["kind"] == kind


async def _one_code(bureau: httpx.AsyncClient, gateway: Gateway) -> Received:
    await send_code(bureau, await start(bureau))
    await gateway.wait_for(1)
    return gateway.received[0]


def _json(received: Received) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(received.body)
    return document


def _android_signature_holds(received: Received) -> bool:
    timestamp = received.headers["x-timestamp"].encode()
    expected = hmac.new(SECRET.encode(), received.body + timestamp, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), received.headers["x-signature"])


def _generic_signature_holds(received: Received) -> bool:
    headers = received.headers
    canonical = "\n".join(
        [
            "POST",
            received.target,
            headers["x-banshui-timestamp"],
            headers["x-banshui-nonce"],
            hashlib.sha256(received.body).hexdigest(),
        ]
    )
    expected = hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), headers["x-banshui-signature"])


def _form(received: Received) -> dict[str, str]:
    return dict(parse_qsl(received.body.decode(), keep_blank_values=True))


def _twilio_signature_holds(received: Received, url: str) -> bool:
    validator = RequestValidator(SECRET)
    signature = received.headers["x-twilio-signature"]
    return bool(validator.validate(url, _form(received), signature))


def _recent(seconds: str) -> bool:
    return abs(int(seconds) - time.time()) < 5


async def test_android_gateway_posts_its_signed_envelope(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, "android-gateway", gateway.url, device_id="dev-1")

    received = await _one_code(bureau, gateway)

    envelope = _json(received)
    [sms] = await outbox(bureau)
    assert _android_signature_holds(received)
    assert _recent(received.headers["x-timestamp"])
    assert received.headers["content-type"] == "application/json"
    assert set(envelope) == {"deviceId", "event", "id", "webhookId", "payload"}
    assert (envelope["deviceId"], envelope["event"]) == ("dev-1", "sms:received")
    payload = envelope["payload"]
    assert set(payload) == {
        "messageId",
        "message",
        "sender",
        "recipient",
        "simNumber",
        "receivedAt",
    }
    assert (payload["message"], payload["sender"]) == (sms["text"], "12366")
    assert (payload["recipient"], payload["simNumber"]) == (f"+86{S1}", 2)
    assert datetime.fromisoformat(payload["receivedAt"]).utcoffset() is not None


async def test_android_gateway_retries_with_a_new_id_and_the_same_payload(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    gateway.refuse_next = 1
    await _route(bureau, "android-gateway", gateway.url)

    retried = await _one_code(bureau, gateway)

    [refused] = gateway.refused
    assert _android_signature_holds(refused)
    assert _android_signature_holds(retried)
    assert _json(refused)["id"] != _json(retried)["id"]
    assert _json(refused)["payload"] == _json(retried)["payload"]


async def test_an_android_gateway_duplicate_keeps_the_message_id(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await admin(bureau, "PUT", "/admin/faults", {"sms_duplicate": 1})
    await _route(bureau, "android-gateway", gateway.url)
    await send_code(bureau, await start(bureau))

    await gateway.wait_for(2)

    first, second = (_json(received) for received in gateway.received)
    assert first["payload"]["messageId"] == second["payload"]["messageId"]
    assert first["id"] != second["id"]
    assert all(_android_signature_holds(r) for r in gateway.received)


async def test_twilio_posts_a_form_its_request_validator_accepts(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, "twilio", gateway.url)

    received = await _one_code(bureau, gateway)

    form = _form(received)
    [sms] = await outbox(bureau)
    assert _twilio_signature_holds(received, gateway.url)
    assert {"MessageSid", "AccountSid", "From", "To", "Body", "NumSegments"} <= set(
        form
    )
    assert (form["Body"], form["From"], form["To"]) == (
        sms["text"],
        "12366",
        f"+86{S1}",
    )
    assert (form["NumMedia"], form["NumSegments"]) == ("0", "1")
    assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])
    assert re.fullmatch(r"AC[0-9a-f]{32}", form["AccountSid"])
    assert form["ToCity"] == ""


async def test_twilio_signs_over_the_public_url_when_one_is_given(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, "twilio", gateway.url, public_url=PUBLIC)

    received = await _one_code(bureau, gateway)

    assert _twilio_signature_holds(received, PUBLIC)
    assert not _twilio_signature_holds(received, gateway.url)


async def test_twilio_retries_the_very_same_request(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    gateway.refuse_next = 1
    await _route(bureau, "twilio", gateway.url)

    retried = await _one_code(bureau, gateway)

    [refused] = gateway.refused
    assert refused.body == retried.body
    assert (
        refused.headers["x-twilio-signature"] == retried.headers["x-twilio-signature"]
    )


async def test_twilio_names_each_sms_with_its_own_message_sid(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    await _route(bureau, "twilio", gateway.url, account_sid="AC" + "0" * 32)
    flow_id = await start(bureau)
    await send_code(bureau, flow_id)
    await send_code(bureau, flow_id)

    await gateway.wait_for(2)

    forms = [_form(received) for received in gateway.received]
    assert forms[0]["MessageSid"] != forms[1]["MessageSid"]
    assert {form["AccountSid"] for form in forms} == {"AC" + "0" * 32}


async def test_the_generic_format_is_banshuis_signed_json(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    url = f"{gateway.url}?source=s1&v=2"
    await _route(bureau, "generic", url, key="provider-key-1")

    received = await _one_code(bureau, gateway)

    document = _json(received)
    headers = received.headers
    [sms] = await outbox(bureau)
    assert received.target.endswith("?source=s1&v=2")
    assert _generic_signature_holds(received)
    assert headers["x-banshui-key"] == "provider-key-1"
    assert _recent(headers["x-banshui-timestamp"])
    assert _NONCE.fullmatch(headers["x-banshui-nonce"])
    assert set(document) == {"id", "number", "sender", "text", "sent_at"}
    assert (document["number"], document["sender"]) == (S1, "12366")
    assert document["text"] == sms["text"]
    assert datetime.fromisoformat(document["sent_at"]).utcoffset() is not None


async def test_the_generic_format_retries_the_same_id_with_a_new_nonce(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    gateway.refuse_next = 1
    await _route(bureau, "generic", gateway.url, key="k")

    retried = await _one_code(bureau, gateway)

    [refused] = gateway.refused
    assert _generic_signature_holds(refused)
    assert _generic_signature_holds(retried)
    assert refused.body == retried.body
    assert refused.headers["x-banshui-nonce"] != retried.headers["x-banshui-nonce"]


async def test_a_signing_gateway_without_its_secret_or_key_is_refused(
    bureau: httpx.AsyncClient, gateway: Gateway
) -> None:
    path = f"/admin/deliveries/{S1}"
    bodies: list[dict[str, object]] = [
        {"url": gateway.url, "kind": "twilio"},
        {"url": gateway.url, "kind": "android-gateway"},
        {"url": gateway.url, "kind": "generic", "secret": SECRET},
        {"url": gateway.url, "kind": "pager", "secret": SECRET},
    ]

    for body in bodies:
        response = await bureau.put(path, json=body)
        assert response.status_code == 422, body


async def test_smsforwarder_stays_the_default_format(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    answer = await admin(bureau, "PUT", f"/admin/deliveries/{S1}", {"url": gateway.url})

    await _one_code(bureau, gateway)

    assert answer["kind"] == "smsforwarder"
    assert set(gateway.posts[0]) == {"from", "content", "timestamp"}
