"""Twilio Programmable Messaging: its inbound-SMS webhook.

A form post with `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + each
parameter, sorted by name, as name + value)). The URL signed is the public one
the delivery names, else the one posted to. A retry is the very same request;
`MessageSid` names the SMS. A few of the fields Twilio adds, some empty, come too.
"""

import base64
import hashlib
import hmac
from datetime import datetime

from banshui.simulator.gateways.posting import (
    Arrival,
    Posting,
    e164,
    form_posting,
    secret_of,
)

RETRY_IS_IDENTICAL = True

_SINGLE = {True: 160, False: 70}
_PART = {True: 153, False: 67}


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    signed = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def params(arrival: Arrival) -> dict[str, str]:
    sms, delivery = arrival.sms, arrival.delivery
    message_sid = f"SM{arrival.message_id}"
    account_sid = delivery.account_sid or _account_sid(delivery.url)
    return {
        "ToCountry": "CN",
        "ToState": "",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": sms.text,
        "FromCountry": "CN",
        "To": e164(sms.phone),
        "ToZip": "",
        "NumSegments": str(segments(sms.text)),
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": sms.sender,
        "ApiVersion": "2010-04-01",
    }


def post(arrival: Arrival, stamp: datetime) -> Posting:
    fields = params(arrival)
    url = arrival.delivery.public_url or arrival.delivery.url
    signature = sign(secret_of(arrival.delivery), url, fields)
    return form_posting(fields, {"X-Twilio-Signature": signature})


def segments(text: str) -> int:
    """How many SMS parts the text takes: GSM-7 for ASCII, else UCS-2."""
    plain = text.isascii()
    if len(text) <= _SINGLE[plain]:
        return 1

    return -(-len(text) // _PART[plain])


def _account_sid(url: str) -> str:
    return "AC" + hashlib.sha256(f"account:{url}".encode()).hexdigest()[:32]
