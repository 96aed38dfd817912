import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banshui.sms.gateways.android_gateway import AndroidGateway
from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    ReceivedSms,
    SignatureRefused,
    Verified,
)

GATEWAY = AndroidGateway()
SECRET = "zhangsan-pixel-webhook-key"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
URL = "https://banshui.example/hooks/sms/android-gateway/zhangsan"

DEVICE = "ffffffffceb0b1db0000018e937c815b"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作，5分钟内有效。"
RECEIVED_AT = "2025-03-14T17:29:58.000+08:00"


def _envelope(
    message_id: str = "a1b2c3d4",
    delivery: str = "Ey6ECgOkVVFjz3CL48B8C",
    **payload: Any,
) -> dict[str, Any]:
    """An ``sms:received`` event as the app sends it."""
    fields: dict[str, Any] = {
        "messageId": message_id,
        "message": SMS,
        "sender": "12366",
        "recipient": "+8619912340001",
        "simNumber": 1,
        "receivedAt": RECEIVED_AT,
    }
    fields.update(payload)
    return {
        "deviceId": DEVICE,
        "event": "sms:received",
        "id": delivery,
        "webhookId": "LreFUt-Z3sSq0JufY9uWB",
        "payload": fields,
    }


def _signature(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """Computed here, apart from the gateway's own code."""
    message = body + timestamp.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _request(
    body: bytes | dict[str, Any],
    timestamp: int = NOW_S,
    signature: str | None = None,
) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(timestamp)
    headers = {
        "content-type": "application/json",
        "x-timestamp": stamp,
        "x-signature": signature or _signature(raw, stamp),
    }
    return InboundRequest("POST", URL, headers, {}, raw)


def _verify(request: InboundRequest, now: datetime = NOW) -> Verified:
    return GATEWAY.verify(request, SECRET, now)


def _one(request: InboundRequest) -> ReceivedSms:
    [sms] = GATEWAY.parse(request)
    return sms


def _malformed_field(request: InboundRequest) -> str | None:
    with pytest.raises(MalformedSms) as malformed:
        GATEWAY.parse(request)
    return malformed.value.field


def test_a_signed_sms_received_event_verifies_and_parses() -> None:
    request = _request(_envelope())

    verified = _verify(request)
    sms = _one(request)

    assert verified.nonce is None
    assert verified.content_hash == hashlib.sha256(request.body).hexdigest()
    assert sms.sender == "12366"
    assert sms.text == SMS
    assert sms.number == "19912340001"
    assert sms.number_field == "payload.recipient"  # named so in its errors
    assert sms.sim_slot == "1"
    assert sms.gateway_time == RECEIVED_AT
    assert sms.part is None


def test_the_signature_covers_the_raw_bytes_of_the_body() -> None:
    raw = json.dumps(_envelope()).encode()
    reformatted = json.dumps(_envelope(), indent=2).encode()

    with pytest.raises(SignatureRefused, match="does not match"):
        _verify(_request(reformatted, signature=_signature(raw, str(NOW_S))))


def test_a_body_changed_after_signing_is_refused() -> None:
    raw = json.dumps(_envelope()).encode()
    tampered = raw.replace(b"418207", b"000000")

    with pytest.raises(SignatureRefused):
        _verify(_request(tampered, signature=_signature(raw, str(NOW_S))))


def test_a_signature_made_with_another_secret_is_refused() -> None:
    raw = json.dumps(_envelope()).encode()
    other = _signature(raw, str(NOW_S), secret="lisi-other-secret-key")

    with pytest.raises(SignatureRefused):
        _verify(_request(raw, signature=other))


def test_the_signature_is_not_valid_for_another_timestamp() -> None:
    raw = json.dumps(_envelope()).encode()
    signed_earlier = _signature(raw, str(NOW_S - 1))

    with pytest.raises(SignatureRefused):
        _verify(_request(raw, signature=signed_earlier))


def test_an_upper_case_hex_signature_is_accepted() -> None:
    raw = json.dumps(_envelope()).encode()

    _verify(_request(raw, signature=_signature(raw, str(NOW_S)).upper()))


@pytest.mark.parametrize("seconds", [-301, 301], ids=["old", "ahead"])
def test_a_timestamp_301_seconds_away_is_refused(seconds: int) -> None:
    request = _request(_envelope(), timestamp=NOW_S - seconds)

    with pytest.raises(SignatureRefused, match="window"):
        _verify(request)


@pytest.mark.parametrize("seconds", [-300, 300], ids=["old", "ahead"])
def test_a_timestamp_300_seconds_away_is_still_accepted(seconds: int) -> None:
    _verify(_request(_envelope(), timestamp=NOW_S - seconds))


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1.7e9", "-1", "١٢٣", "1741944600000"]
)
def test_a_garbled_timestamp_is_refused_with_a_reason(timestamp: str) -> None:
    raw = json.dumps(_envelope()).encode()
    headers = {"x-timestamp": timestamp, "x-signature": _signature(raw, timestamp)}

    with pytest.raises(SignatureRefused) as refused:
        _verify(InboundRequest("POST", URL, headers, {}, raw))
    assert "Timestamp" in refused.value.reason


@pytest.mark.parametrize("header", ["x-timestamp", "x-signature"])
def test_a_request_without_timestamp_or_signature_is_refused(header: str) -> None:
    request = _request(_envelope())
    del request.headers[header]

    with pytest.raises(SignatureRefused):
        _verify(request)


def test_a_retry_with_a_new_delivery_id_is_the_same_sms() -> None:
    first = _one(_request(_envelope(delivery="first-attempt")))
    retry = _one(_request(_envelope(delivery="retry-two-days-on"), NOW_S + 172_800))

    assert first.identity == retry.identity


def test_identical_texts_with_different_message_ids_are_different_sms() -> None:
    first = _one(_request(_envelope(message_id="a1b2c3d4")))
    twin = _one(_request(_envelope(message_id="e5f6a7b8")))

    assert first.identity != twin.identity


def test_the_same_message_id_from_another_device_is_another_sms() -> None:
    other = _envelope()
    other["deviceId"] = "another-phone-of-lisi"

    assert _one(_request(_envelope())).identity != _one(_request(other)).identity


@pytest.mark.parametrize("recipient", [None, "", "+14155550100", "unknown"])
def test_without_a_mainland_recipient_the_number_is_left_to_the_source(
    recipient: str | None,
) -> None:
    sms = _one(_request(_envelope(recipient=recipient, simNumber=2)))

    assert sms.number is None
    assert sms.sim_slot == "2"


def test_the_sender_of_older_app_versions_is_read_from_phone_number() -> None:
    payload = _envelope()
    del payload["payload"]["sender"]
    payload["payload"]["phoneNumber"] = "12366"

    assert _one(_request(payload)).sender == "12366"


def test_the_sender_is_kept_as_opaque_text() -> None:
    sms = _one(_request(_envelope(sender='ACME-Bank "$"')))

    assert sms.sender == 'ACME-Bank "$"'


@pytest.mark.parametrize("event", ["sms:sent", "sms:delivered", "system:ping"])
def test_other_events_carry_no_sms(event: str) -> None:
    envelope = {"deviceId": DEVICE, "event": event, "id": "x", "payload": {"a": 1}}

    assert GATEWAY.parse(_request(envelope)) == []


def test_new_fields_from_later_app_versions_are_ignored() -> None:
    envelope = _envelope(subscriptionId=3)
    envelope["newTopLevelField"] = {"anything": True}

    assert _one(_request(envelope)).text == SMS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messageId": None}, "payload.messageId"),
        ({"message": ""}, "payload.message"),
        ({"message": "验证码\x00418207"}, "payload.message"),
        ({"simNumber": "1"}, "payload.simNumber"),
        ({"sender": "  "}, "payload.sender"),
    ],
)
def test_a_bad_payload_field_is_malformed_naming_it(
    change: dict[str, Any], field: str
) -> None:
    assert _malformed_field(_request(_envelope(**change))) == field


def test_an_sms_event_without_device_is_malformed_naming_device_id() -> None:
    envelope = _envelope()
    del envelope["deviceId"]

    assert _malformed_field(_request(envelope)) == "deviceId"


@pytest.mark.parametrize("body", [b"", b"not json", b'{"deviceId": "', b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_malformed_naming_body(
    body: bytes,
) -> None:
    assert _malformed_field(_request(body)) == "body"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        name: _JSON | st.text(max_size=50)
        for name in [
            "messageId",
            "message",
            "sender",
            "phoneNumber",
            "recipient",
            "simNumber",
            "receivedAt",
        ]
    },
)
_ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "deviceId": _JSON,
        "event": st.sampled_from(["sms:received", "sms:sent"]) | _JSON,
        "id": _JSON,
        "payload": _PAYLOADS | _JSON,
    },
)


def _raises_only_gateway_errors(request: InboundRequest, now: datetime) -> None:
    with contextlib.suppress(SignatureRefused):
        _verify(request, now)

    with contextlib.suppress(MalformedSms):
        GATEWAY.parse(request)


@given(_ENVELOPES, st.integers(-400, 400))
def test_arbitrary_signed_envelopes_raise_only_the_gateway_errors(
    envelope: dict[str, Any], offset: int
) -> None:
    _raises_only_gateway_errors(_request(envelope, NOW_S + offset), NOW)


@given(
    st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    st.dictionaries(
        st.sampled_from(["x-timestamp", "x-signature"]) | st.text(max_size=12),
        st.text(max_size=80),
    ),
)
def test_arbitrary_bodies_and_headers_raise_only_the_gateway_errors(
    body: bytes, headers: dict[str, str]
) -> None:
    _raises_only_gateway_errors(InboundRequest("POST", URL, headers, {}, body), NOW)
