import contextlib
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    ReceivedSms,
    SignatureRefused,
)
from banshui.sms.gateways.twilio import Twilio

GATEWAY = Twilio()
TOKEN = "12345678901234567890123456789012"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
URL = "https://banshui.example/hooks/sms/twilio/zhangsan"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作，5分钟内有效。"


def _params(**overrides: str) -> dict[str, str]:
    """An incoming message's form, as Twilio posts it."""
    params = {
        "ToCountry": "CN",
        "ToState": "",
        "SmsMessageSid": "SM0123456789abcdef0123456789abcdef",
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": "SM0123456789abcdef0123456789abcdef",
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": SMS,
        "FromCountry": "CN",
        "To": "+8619912340001",
        "MessagingServiceSid": "",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": "+8612366",
        "ApiVersion": "2010-04-01",
    }
    params.update(overrides)
    return params


def _sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """Signed by Twilio's own reference implementation."""
    signature: str = RequestValidator(token).compute_signature(url, params)
    return signature


def _request(
    params: dict[str, str],
    signature: str | None = None,
    url: str = URL,
    headers: dict[str, str] | None = None,
) -> InboundRequest:
    sent = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature or _sign(url, params),
    }
    sent.update(headers or {})
    body = urlencode(params).encode()
    return InboundRequest("POST", url, sent, {}, body, form=params)


def _verify(request: InboundRequest) -> None:
    GATEWAY.verify(request, TOKEN, NOW)


def _one(request: InboundRequest) -> ReceivedSms:
    [sms] = GATEWAY.parse(request)
    return sms


def _malformed_field(request: InboundRequest) -> str | None:
    with pytest.raises(MalformedSms) as malformed:
        GATEWAY.parse(request)
    return malformed.value.field


def test_a_request_signed_by_twilio_verifies_and_parses() -> None:
    request = _request(_params())

    verified = GATEWAY.verify(request, TOKEN, NOW)
    sms = _one(request)

    assert verified.nonce is None
    assert sms.sender == "+8612366"
    assert sms.text == SMS
    assert sms.number == "19912340001"
    assert sms.number_field == "To"
    assert sms.gateway_time is None


def test_a_field_twilio_added_without_notice_is_kept_in_the_signature() -> None:
    params = _params(AddOns='{"status":"successful"}', FutureField="x")

    _verify(_request(params))


def test_a_form_missing_a_signed_field_is_refused() -> None:
    params = _params()
    signature = _sign(URL, params)
    del params["ToCity"]  # an empty value, still part of what Twilio signed

    with pytest.raises(SignatureRefused):
        _verify(_request(params, signature))


def test_a_body_changed_after_signing_is_refused() -> None:
    signature = _sign(URL, _params())

    with pytest.raises(SignatureRefused):
        _verify(_request(_params(Body=SMS.replace("418207", "000000")), signature))


def test_a_signature_made_with_another_token_is_refused() -> None:
    signature = _sign(URL, _params(), token="another-auth-token-of-lisi-000")

    with pytest.raises(SignatureRefused):
        _verify(_request(_params(), signature))


def test_a_signature_over_another_url_is_refused() -> None:
    # What a proxy forwards to is not what Twilio signed.
    internal = "http://127.0.0.1:8000/hooks/sms/twilio/zhangsan"
    signature = _sign(internal, _params())

    with pytest.raises(SignatureRefused):
        _verify(_request(_params(), signature))


@pytest.mark.parametrize(
    ("configured", "signed"),
    [
        (URL, URL.replace("example/", "example:443/")),
        (URL.replace("example/", "example:443/"), URL),
    ],
    ids=["signed-with-port", "signed-without-port"],
)
def test_the_default_port_may_be_in_the_signed_url_or_not(
    configured: str, signed: str
) -> None:
    _verify(_request(_params(), _sign(signed, _params()), url=configured))


def test_a_get_request_is_signed_over_its_full_url() -> None:
    query = _params()
    url = f"{URL}?{urlencode(query)}"
    headers = {"x-twilio-signature": _sign(url, {})}
    request = InboundRequest("GET", url, headers, query, b"")

    _verify(request)
    assert _one(request).text == SMS


def test_a_request_signed_with_a_shared_key_and_hmac_sha256_verifies() -> None:
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(URL, _params(), algorithm="HMAC_SHA256")
    settings = {
        "x-twilio-webhooks-signature-settings": "key=KS01,algorithm=HMAC_SHA256"
    }

    _verify(_request(_params(), signature, headers=settings))


def test_an_unknown_signature_algorithm_is_refused() -> None:
    settings = {"x-twilio-webhooks-signature-settings": "algorithm=HMAC_MD5"}

    with pytest.raises(SignatureRefused, match="algorithm"):
        _verify(_request(_params(), headers=settings))


def test_a_request_without_a_signature_is_refused() -> None:
    request = _request(_params())
    del request.headers["x-twilio-signature"]

    with pytest.raises(SignatureRefused):
        _verify(request)


def test_the_same_message_sid_is_the_same_sms_and_another_is_not() -> None:
    first = _one(_request(_params()))
    again = _one(_request(_params()))
    twin = _one(_request(_params(MessageSid="SMffffffffffffffffffffffffffffffff")))

    assert first.identity == again.identity
    assert first.identity != twin.identity


@pytest.mark.parametrize("to", ["19912340001", "+86 199 1234 0001", "008619912340001"])
def test_a_mainland_to_is_normalised(to: str) -> None:
    assert _one(_request(_params(To=to))).number == "19912340001"


def test_a_to_abroad_leaves_the_number_to_the_source() -> None:
    assert _one(_request(_params(To="+14155550100"))).number is None


def test_a_picture_message_without_text_is_kept_as_empty_text() -> None:
    assert _one(_request(_params(Body="", NumMedia="1"))).text == ""


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To", "Body"])
def test_a_form_without_a_field_it_needs_is_malformed_naming_it(missing: str) -> None:
    params = _params()
    del params[missing]

    assert _malformed_field(_request(params)) == missing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MessageSid": "SM/../x"}, "MessageSid"),
        ({"From": " "}, "From"),
        ({"Body": "验证码\x00418207"}, "Body"),
    ],
)
def test_a_bad_field_is_malformed_naming_it(change: dict[str, str], field: str) -> None:
    assert _malformed_field(_request(_params(**change))) == field


def test_a_body_that_is_not_utf_8_is_refused_and_malformed() -> None:
    request = InboundRequest("POST", URL, {"x-twilio-signature": "x"}, {}, b"Body=%ff")

    with pytest.raises(SignatureRefused):
        _verify(request)
    assert _malformed_field(request) == "body"


def test_twilio_is_answered_with_empty_twiml() -> None:
    answer = GATEWAY.acknowledgement()

    assert answer.body == "<Response/>"
    assert answer.media_type == "text/xml"


_FIELD_NAMES = ["MessageSid", "From", "To", "Body", "NumSegments", "AccountSid"]
_FORMS = st.dictionaries(
    st.sampled_from(_FIELD_NAMES) | st.text(min_size=1, max_size=10),
    st.text(max_size=100),
)


@given(_FORMS)
def test_arbitrary_signed_forms_raise_only_the_gateway_errors(
    params: dict[str, str],
) -> None:
    request = _request(params)

    with contextlib.suppress(SignatureRefused):
        _verify(request)
    with contextlib.suppress(MalformedSms):
        GATEWAY.parse(request)


@given(st.binary(max_size=300), st.text(max_size=60), st.text(max_size=60))
def test_arbitrary_bodies_and_urls_raise_only_the_gateway_errors(
    body: bytes, signature: str, url: str
) -> None:
    request = InboundRequest("POST", url, {"x-twilio-signature": signature}, {}, body)

    with contextlib.suppress(SignatureRefused):
        _verify(request)
    with contextlib.suppress(MalformedSms):
        GATEWAY.parse(request)
