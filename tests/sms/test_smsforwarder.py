import base64
import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    ReceivedSms,
    SignatureRefused,
    Verified,
)
from banshui.sms.gateways.smsforwarder import SmsForwarder

GATEWAY = SmsForwarder()
SECRET = "zhangsan-xiaomi-9f2c"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
URL = "https://banshui.example/hooks/sms/smsforwarder/zhangsan"

SENDER = "12366"
SMS = "【国家税务总局】您的验证码为482913，5分钟内有效，请勿泄露。"
RECEIVED = "2025-03-14 17:29:58"
TEMPLATED = "\n".join(
    [SENDER, SMS, "SIM1_中国移动_13188888888", RECEIVED, "张三的小米"]
)

FIELD_NAMES = [
    "from",
    "content",
    "org_content",
    "timestamp",
    "sign",
    "receive_time",
    "card_slot",
    "device_mark",
]


def _sign(timestamp: int, secret: str = SECRET) -> str:
    """The raw base64 sign, computed here apart from the gateway's own code."""
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _encoded(value: str, times: int) -> str:
    for _ in range(times):
        value = quote(value, safe="")
    return value


def _fields(sent_ms: int = NOW_MS, /, **overrides: str) -> dict[str, str]:
    """The app's default form fields; once encoded is how a form sign arrives."""
    fields = {
        "from": SENDER,
        "content": TEMPLATED,
        "timestamp": str(sent_ms),
        "sign": _encoded(_sign(sent_ms), 1),
    }
    fields.update(overrides)
    return fields


def _form(fields: dict[str, str]) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url=URL,
        headers={"content-type": "application/x-www-form-urlencoded"},
        query={},
        body=urlencode(fields).encode(),
        form=fields,
    )


def _json(body: str) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url=URL,
        headers={"content-type": "application/json; charset=utf-8"},
        query={},
        body=body.encode(),
    )


def _verify(request: InboundRequest, now: datetime = NOW) -> Verified:
    return GATEWAY.verify(request, SECRET, now)


def _one(request: InboundRequest) -> ReceivedSms:
    [sms] = GATEWAY.parse(request)
    return sms


def _timestamp_whose_sign_has_a_plus() -> int:
    return next(ms for ms in range(NOW_MS, NOW_MS + 1000) if "+" in _sign(ms))


def test_a_signed_form_request_verifies_and_parses_to_the_raw_sms() -> None:
    request = _form(_fields())

    verified = _verify(request)
    sms = _one(request)

    assert verified.nonce == f"{NOW_MS}:{_sign(NOW_MS)}"
    assert sms.sender == SENDER
    assert sms.text == SMS
    assert sms.sim_slot == "1"
    assert sms.number is None
    assert sms.gateway_time == RECEIVED


def test_receiving_a_request_gives_what_verifying_and_parsing_it_give() -> None:
    request = _form(_fields())

    verified, messages = GATEWAY.receive(request, SECRET, NOW)

    assert verified == _verify(request)
    assert messages == GATEWAY.parse(request)


def test_an_unsigned_request_is_refused_for_its_signature_whatever_its_body() -> None:
    request = _form(_fields(sign="not-the-sign", content=""))

    with pytest.raises(SignatureRefused):
        GATEWAY.receive(request, SECRET, NOW)


@pytest.mark.parametrize("times", [0, 1, 2], ids=["raw", "once", "twice"])
def test_the_sign_verifies_however_many_times_it_was_url_encoded(times: int) -> None:
    request = _form(_fields(sign=_encoded(_sign(NOW_MS), times)))

    assert _verify(request).nonce == f"{NOW_MS}:{_sign(NOW_MS)}"


def test_the_sign_verifies_when_its_plus_arrived_as_a_space() -> None:
    timestamp = _timestamp_whose_sign_has_a_plus()
    spaced = _sign(timestamp).replace("+", " ")

    verified = _verify(_form(_fields(timestamp, sign=spaced)))

    assert verified.nonce == f"{timestamp}:{_sign(timestamp)}"


def test_a_sign_made_with_another_secret_is_refused() -> None:
    request = _form(_fields(sign=_sign(NOW_MS, secret="lisi-other-secret")))

    with pytest.raises(SignatureRefused):
        _verify(request)


def test_a_tampered_sign_is_refused() -> None:
    raw = _sign(NOW_MS)
    tampered = ("B" if raw[0] == "A" else "A") + raw[1:]

    with pytest.raises(SignatureRefused):
        _verify(_form(_fields(sign=tampered)))


@pytest.mark.parametrize("seconds", [-601, 601], ids=["old", "ahead"])
def test_a_timestamp_601_seconds_away_is_refused(seconds: int) -> None:
    request = _form(_fields(NOW_MS - seconds * 1000))

    with pytest.raises(SignatureRefused, match="window"):
        _verify(request)


@pytest.mark.parametrize("seconds", [-600, 600], ids=["old", "ahead"])
def test_a_timestamp_600_seconds_away_is_still_accepted(seconds: int) -> None:
    request = _form(_fields(NOW_MS - seconds * 1000))

    assert _verify(request).nonce is not None


@pytest.mark.parametrize("timestamp", ["", "abc", "1.7e12", "-1", "١٢٣"])
def test_a_garbled_timestamp_is_refused_with_a_reason(timestamp: str) -> None:
    request = _form(_fields(timestamp=timestamp))

    with pytest.raises(SignatureRefused) as refused:
        _verify(request)
    assert "timestamp" in refused.value.reason


@pytest.mark.parametrize("missing", ["timestamp", "sign"])
def test_a_request_without_timestamp_or_sign_is_refused(missing: str) -> None:
    fields = _fields()
    del fields[missing]

    with pytest.raises(SignatureRefused) as refused:
        _verify(_form(fields))
    assert missing in refused.value.reason


def test_a_json_body_verifies_and_parses() -> None:
    # The app pastes the URL-encoded sign into JSON, and [timestamp] often unquoted.
    body = (
        f'{{"from": "{SENDER}", "content": {json.dumps(TEMPLATED)}, '
        f'"timestamp": {NOW_MS}, "sign": "{_encoded(_sign(NOW_MS), 1)}"}}'
    )
    request = _json(body)

    assert _verify(request).nonce == f"{NOW_MS}:{_sign(NOW_MS)}"
    assert _one(request).text == SMS


def test_a_body_starting_with_a_brace_is_read_as_json_whatever_its_type() -> None:
    body = json.dumps(_fields(), ensure_ascii=False)
    request = InboundRequest(
        "POST", URL, {"content-type": "text/plain"}, {}, body.encode()
    )

    assert _verify(request).nonce == f"{NOW_MS}:{_sign(NOW_MS)}"
    assert _one(request).text == SMS


def test_a_get_request_with_query_parameters_verifies_and_parses() -> None:
    query = _fields(sign=_sign(NOW_MS))
    request = InboundRequest("GET", f"{URL}?{urlencode(query)}", {}, query, b"")

    assert _verify(request).nonce == f"{NOW_MS}:{_sign(NOW_MS)}"
    assert _one(request).text == SMS


def test_org_content_wins_over_content() -> None:
    request = _form(_fields(content="模板：" + SMS, org_content=SMS))

    assert _one(request).text == SMS


def test_a_multi_line_sms_survives_template_stripping() -> None:
    text = "【电子税务局】\n您的验证码为482913\n5分钟内有效。"
    # No device mark, a bare slot and the SubId line of recent app versions.
    content = "\n".join([SENDER, text, "SIM2", "SubId：3", RECEIVED])

    sms = _one(_form(_fields(content=content)))

    assert sms.text == text
    assert sms.sim_slot == "2"
    assert sms.gateway_time == RECEIVED


def test_content_that_is_not_the_template_is_taken_whole() -> None:
    content = f"{SMS}\n{RECEIVED}"

    sms = _one(_form(_fields(content=content)))

    assert sms.text == content
    assert sms.gateway_time is None


def test_separately_templated_fields_are_read_on_their_own() -> None:
    fields = _fields(
        org_content=SMS, receive_time="2025-03-14 09:29:58", card_slot="SIM2_中国联通"
    )

    sms = _one(_form(fields))

    assert sms.sim_slot == "2"
    assert sms.gateway_time == "2025-03-14 09:29:58"


def test_the_sender_is_kept_as_opaque_text_trimmed_and_at_most_100_characters() -> None:
    assert (
        _one(_form(_fields(**{"from": '  ACME-Bank "$" '}))).sender == 'ACME-Bank "$"'
    )
    assert _one(_form(_fields(**{"from": "x" * 150}))).sender == "x" * 100


def test_the_same_request_twice_gives_the_same_nonce_and_content_hash() -> None:
    first = _verify(_form(_fields()))
    again = _verify(_form(_fields()))

    assert first == again


def test_the_same_signature_with_other_content_keeps_the_nonce_not_the_hash() -> None:
    genuine = _verify(_form(_fields()))
    replayed = _verify(_form(_fields(content=TEMPLATED.replace("482913", "000000"))))

    assert replayed.nonce == genuine.nonce
    assert replayed.content_hash != genuine.content_hash


def test_two_deliveries_of_one_sms_share_an_identity() -> None:
    # The app's second broadcast is a new request: new timestamp, new sign.
    first = _one(_form(_fields(NOW_MS)))
    second = _one(_form(_fields(NOW_MS + 4_000)))

    assert first.identity == second.identity


def test_identical_texts_received_at_different_times_are_different_sms() -> None:
    later = TEMPLATED.replace(RECEIVED, "2025-03-14 17:31:02")

    first = _one(_form(_fields(NOW_MS)))
    second = _one(_form(_fields(NOW_MS, content=later)))

    assert first.identity != second.identity


@pytest.mark.parametrize(
    "received", [{"receive_time": RECEIVED}, {}], ids=["receive-time", "send-time"]
)
def test_a_line_break_moved_from_sender_to_text_makes_another_sms(
    received: dict[str, str],
) -> None:
    def identity(sender: str, text: str) -> str:
        fields = _fields(NOW_MS, **{"from": sender, "org_content": text}, **received)
        return _one(_form(fields)).identity

    assert identity(f"{SENDER}\nA", "B") != identity(SENDER, "A\nB")
    assert identity(SENDER, "A\nB") == identity(SENDER, "A\nB")


def test_without_a_receive_time_the_identity_buckets_the_send_time() -> None:
    bucket = NOW_MS - NOW_MS % 10_000

    def identity(timestamp: int) -> str:
        return _one(_form(_fields(timestamp, content=SMS))).identity

    assert identity(bucket) == identity(bucket + 9_999)
    assert identity(bucket) != identity(bucket + 10_000)


def test_a_request_without_from_is_malformed_naming_from() -> None:
    fields = _fields()
    del fields["from"]

    with pytest.raises(MalformedSms) as malformed:
        GATEWAY.parse(_form(fields))
    assert malformed.value.field == "from"


def test_a_request_without_sms_text_is_malformed_naming_content() -> None:
    with pytest.raises(MalformedSms) as malformed:
        GATEWAY.parse(_form(_fields(content="  ")))
    assert malformed.value.field == "content"


def test_a_broken_json_body_is_malformed_but_its_signed_url_still_verifies() -> None:
    query = {"timestamp": str(NOW_MS), "sign": _sign(NOW_MS)}
    request = InboundRequest(
        "POST", URL, {"content-type": "application/json"}, query, b'{"from": "1'
    )

    assert _verify(request).nonce == f"{NOW_MS}:{_sign(NOW_MS)}"
    with pytest.raises(MalformedSms) as malformed:
        GATEWAY.parse(request)
    assert malformed.value.field == "body"


_FIELD_DICTS = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=10), st.text(max_size=200)
)


def _raises_only_gateway_errors(request: InboundRequest) -> None:
    with contextlib.suppress(SignatureRefused):
        _verify(request)

    with contextlib.suppress(MalformedSms):
        GATEWAY.parse(request)


@given(_FIELD_DICTS)
def test_arbitrary_form_fields_raise_only_the_gateway_errors(
    fields: dict[str, str],
) -> None:
    _raises_only_gateway_errors(_form(fields))


@given(_FIELD_DICTS, st.integers(-700_000, 700_000))
def test_arbitrary_fields_with_a_valid_sign_raise_only_the_gateway_errors(
    fields: dict[str, str], offset: int
) -> None:
    timestamp = NOW_MS + offset
    fields.update(timestamp=str(timestamp), sign=_sign(timestamp))

    _raises_only_gateway_errors(_form(fields))


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_json_bodies_raise_only_the_gateway_errors(body: bytes) -> None:
    headers = {"content-type": "application/json"}

    _raises_only_gateway_errors(InboundRequest("POST", URL, headers, {}, body))
