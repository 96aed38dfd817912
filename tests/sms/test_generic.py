import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    PartInfo,
    ReceivedSms,
    SignatureRefused,
    Verified,
)
from banshui.sms.gateways.generic import Generic

GATEWAY = Generic()
SOURCE = "qixiangyun"
SECRET = "qixiangyun-generic-secret-7d1f"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
PATH = f"/hooks/sms/generic/{SOURCE}"
URL = f"https://banshui.example{PATH}"
NONCE = "n0nce-of-this-request-01"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作，5分钟内有效。"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "qx-20250314-000017",
        "number": "19912340001",
        "sender": "12366",
        "text": SMS,
        "sent_at": "2025-03-14T17:29:58+08:00",
    }
    body.update(overrides)
    return body


def _signature(
    body: bytes,
    timestamp: int = NOW_S,
    nonce: str = NONCE,
    path: str = PATH,
    secret: str = SECRET,
) -> str:
    """The documented scheme, computed here apart from ``banshui.signing``."""
    digest = hashlib.sha256(body).hexdigest()
    canonical = f"POST\n{path}\n{timestamp}\n{nonce}\n{digest}"
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _request(
    body: bytes | dict[str, Any],
    timestamp: int = NOW_S,
    nonce: str = NONCE,
    key: str = SOURCE,
    signature: str | None = None,
    url: str = URL,
) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "content-type": "application/json",
        "x-banshui-key": key,
        "x-banshui-timestamp": str(timestamp),
        "x-banshui-nonce": nonce,
        "x-banshui-signature": signature or _signature(raw, timestamp, nonce),
    }
    return InboundRequest("POST", url, headers, {}, raw, source=SOURCE)


def _verify(request: InboundRequest, now: datetime = NOW) -> Verified:
    return GATEWAY.verify(request, SECRET, now)


def _one(request: InboundRequest) -> ReceivedSms:
    [sms] = GATEWAY.parse(request)
    return sms


def _malformed_field(request: InboundRequest) -> str | None:
    with pytest.raises(MalformedSms) as malformed:
        GATEWAY.parse(request)
    return malformed.value.field


def test_a_signed_sms_verifies_with_its_nonce_and_parses() -> None:
    request = _request(_body())

    verified = _verify(request)
    sms = _one(request)

    assert verified.nonce == NONCE
    assert verified.single_use
    assert sms.sender == "12366"
    assert sms.text == SMS
    assert sms.number == "19912340001"
    assert sms.gateway_time == "2025-03-14T17:29:58+08:00"
    assert sms.part is None


def test_the_signature_covers_the_query_string_as_sent() -> None:
    raw = json.dumps(_body()).encode()
    url = f"{URL}?carrier=cmcc"
    signature = _signature(raw, path=f"{PATH}?carrier=cmcc")

    _verify(_request(raw, signature=signature, url=url))


@pytest.mark.parametrize(
    "signature",
    [
        _signature(json.dumps(_body()).encode(), secret="another-secret-of-lisi"),
        _signature(json.dumps(_body()).encode(), path="/hooks/sms/generic/other"),
        _signature(json.dumps(_body()).encode(), nonce="another-nonce-000001"),
        _signature(json.dumps(_body()).encode(), timestamp=NOW_S - 1),
        _signature(
            json.dumps(_body(text="【中国税务】您的登录验证码：000000")).encode()
        ),
    ],
    ids=["secret", "path", "nonce", "timestamp", "body"],
)
def test_a_signature_over_anything_else_is_refused(signature: str) -> None:
    with pytest.raises(SignatureRefused, match="does not match"):
        _verify(_request(_body(), signature=signature))


def test_a_key_that_is_not_the_source_name_is_refused() -> None:
    with pytest.raises(SignatureRefused, match="Key"):
        _verify(_request(_body(), key="lisi"))


@pytest.mark.parametrize("seconds", [-301, 301], ids=["old", "ahead"])
def test_a_timestamp_301_seconds_away_is_refused(seconds: int) -> None:
    with pytest.raises(SignatureRefused, match="window"):
        _verify(_request(_body(), timestamp=NOW_S - seconds))


@pytest.mark.parametrize(
    "header",
    ["x-banshui-key", "x-banshui-timestamp", "x-banshui-nonce", "x-banshui-signature"],
)
def test_a_request_without_one_of_the_headers_is_refused(header: str) -> None:
    request = _request(_body())
    del request.headers[header]

    with pytest.raises(SignatureRefused):
        _verify(request)


@pytest.mark.parametrize("timestamp", ["", "abc", "-1", "1.7e9", "²"])
def test_a_garbled_timestamp_is_refused(timestamp: str) -> None:
    request = _request(_body())
    request.headers["x-banshui-timestamp"] = timestamp

    with pytest.raises(SignatureRefused):
        _verify(request)


def test_a_short_nonce_is_refused() -> None:
    with pytest.raises(SignatureRefused, match="nonce"):
        _verify(_request(_body(), nonce="short"))


def test_a_retry_with_a_new_nonce_is_the_same_sms() -> None:
    first = _one(_request(_body(), nonce="first-attempt-nonce-01"))
    retry = _one(_request(_body(), nonce="second-attempt-nonce-2"))

    assert first.identity == retry.identity


def test_identical_texts_with_different_ids_are_different_sms() -> None:
    first = _one(_request(_body(id="qx-1")))
    twin = _one(_request(_body(id="qx-2")))

    assert first.identity != twin.identity


def test_a_number_in_plus_86_form_is_normalised() -> None:
    assert _one(_request(_body(number="+86 199 1234 0001"))).number == "19912340001"


def test_a_part_of_a_long_sms_says_where_it_sits() -> None:
    body = _body(part={"ref": "qx-long-9", "index": 2, "total": 3})

    assert _one(_request(body)).part == PartInfo(ref="qx-long-9", index=2, total=3)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"number": "12366"}, "number"),
        ({"number": 19912340001}, "number"),
        ({"sender": ""}, "sender"),
        ({"text": ""}, "text"),
        ({"text": "验证码\x00418207"}, "text"),
        ({"sent_at": "2025-03-14T17:29:58"}, "sent_at"),
        ({"sent_at": 1741944598}, "sent_at"),
        ({"colour": "red"}, "colour"),
        ({"part": {"ref": "r", "index": 0, "total": 3}}, "part.index"),
        ({"part": {"ref": "r", "index": 4, "total": 3}}, "part.index"),
        ({"part": {"ref": "r", "index": 1, "total": 17}}, "part.total"),
        ({"part": {"ref": "r", "index": "1", "total": 3}}, "part.index"),
        ({"part": {"index": 1, "total": 3}}, "part.ref"),
    ],
)
def test_a_bad_field_is_malformed_naming_it(change: dict[str, Any], field: str) -> None:
    assert _malformed_field(_request(_body(**change))) == field


@pytest.mark.parametrize("missing", ["id", "number", "sender", "text", "sent_at"])
def test_a_body_without_a_required_field_is_malformed_naming_it(missing: str) -> None:
    body = _body()
    del body[missing]

    assert _malformed_field(_request(body)) == missing


@pytest.mark.parametrize("raw", [b"", b"{", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_malformed_naming_body(raw: bytes) -> None:
    assert _malformed_field(_request(raw)) == "body"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_PARTS = st.fixed_dictionaries(
    {}, optional={"ref": _JSON, "index": st.integers(-2, 20), "total": _JSON}
)
_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=20),
        "number": st.sampled_from(["19912340001", "+8619912340001"]) | _JSON,
        "sender": _JSON,
        "text": st.text(max_size=50),
        "sent_at": st.sampled_from(["2025-03-14T17:29:58+08:00"]) | _JSON,
        "part": _PARTS | _JSON,
    },
)


def _raises_only_gateway_errors(request: InboundRequest) -> None:
    with contextlib.suppress(SignatureRefused):
        _verify(request)

    with contextlib.suppress(MalformedSms):
        GATEWAY.parse(request)


@given(_BODIES, st.integers(-400, 400))
def test_arbitrary_signed_bodies_raise_only_the_gateway_errors(
    body: dict[str, Any], offset: int
) -> None:
    _raises_only_gateway_errors(_request(body, timestamp=NOW_S + offset))


@given(
    st.binary(max_size=300),
    st.dictionaries(
        st.sampled_from(["x-banshui-key", "x-banshui-timestamp", "x-banshui-nonce"])
        | st.text(max_size=12),
        st.text(max_size=80),
    ),
    st.text(max_size=60),
)
def test_arbitrary_bodies_headers_and_urls_raise_only_the_gateway_errors(
    body: bytes, headers: dict[str, str], url: str
) -> None:
    _raises_only_gateway_errors(InboundRequest("POST", url, headers, {}, body))
