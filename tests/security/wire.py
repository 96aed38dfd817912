"""Each gateway's request as its own software would sign it, apart from banshui.

The schemes are those of docs/gateways.md; Twilio's is made by Twilio's own
``RequestValidator``. Nothing here imports banshui's signature code, so a
mistake there cannot hide by being repeated here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

BUREAU_SENDER = "12366"


@dataclass(frozen=True)
class Signed:
    """One request: what goes on the wire."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes


def now_ms() -> int:
    return int(time.time() * 1000)


def smsforwarder_sign(timestamp: int, secret: str) -> str:
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def smsforwarder(
    url: str,
    secret: str,
    text: str,
    *,
    stamp: int | None = None,
    sign_secret: str | None = None,
    sender: str = BUREAU_SENDER,
) -> Signed:
    """The app's default form: from, content, timestamp (ms) and sign."""
    stamp = now_ms() if stamp is None else stamp
    form = {
        "from": sender,
        "content": text,
        "timestamp": str(stamp),
        "sign": smsforwarder_sign(stamp, sign_secret or secret),
    }
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return Signed("POST", url, headers, urlencode(form).encode())


def android(
    url: str,
    secret: str,
    text: str,
    message_id: str,
    *,
    age: int = 0,
    delivery: str | None = None,
    recipient: str | None = None,
) -> Signed:
    """SMS Gateway for Android: the envelope, signed over body + X-Timestamp."""
    envelope = {
        "deviceId": "security-pixel-0001",
        "event": "sms:received",
        "id": delivery or secrets.token_hex(8),
        "webhookId": "security-hook",
        "payload": {
            "messageId": message_id,
            "message": text,
            "sender": BUREAU_SENDER,
            "recipient": recipient,
            "simNumber": 1,
            "receivedAt": "2026-03-14T10:00:01.000+08:00",
        },
    }
    body = json.dumps(envelope).encode()
    stamp = str(int(time.time()) - age)
    signature = hmac.new(secret.encode(), body + stamp.encode(), "sha256").hexdigest()
    headers = {
        "content-type": "application/json",
        "x-timestamp": stamp,
        "x-signature": signature,
    }
    return Signed("POST", url, headers, body)


def twilio(url: str, token: str, text: str, sid: str, to: str) -> Signed:
    """Twilio's form, signed by Twilio's own validator over the URL and fields."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0123456789abcdef" * 2,
        "From": BUREAU_SENDER,
        "To": f"+86{to}",
        "Body": text,
        "NumSegments": "1",
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
        "x-twilio-signature": RequestValidator(token).compute_signature(url, params),
    }
    return Signed("POST", url, headers, urlencode(params).encode())


def banshui_signed(
    method: str,
    url: str,
    key: str,
    secret: str,
    body: bytes,
    *,
    nonce: str | None = None,
    age: int = 0,
) -> Signed:
    """banshui's own scheme (generic gateway, provider API), from docs/gateways.md."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    stamp = str(int(time.time()) - age)
    nonce = nonce or secrets.token_urlsafe(18)
    digest = hashlib.sha256(body).hexdigest()
    canonical = f"{method}\n{path}\n{stamp}\n{nonce}\n{digest}".encode()
    headers = {
        "content-type": "application/json",
        "x-banshui-key": key,
        "x-banshui-timestamp": stamp,
        "x-banshui-nonce": nonce,
        "x-banshui-signature": hmac.new(
            secret.encode(), canonical, "sha256"
        ).hexdigest(),
    }
    return Signed(method, url, headers, body)


def generic(
    url: str,
    name: str,
    secret: str,
    text: str,
    sms_id: str,
    number: str,
    *,
    nonce: str | None = None,
    age: int = 0,
) -> Signed:
    body = {
        "id": sms_id,
        "number": number,
        "sender": BUREAU_SENDER,
        "text": text,
        "sent_at": "2026-03-14T10:00:01+08:00",
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    return banshui_signed("POST", url, name, secret, raw, nonce=nonce, age=age)
