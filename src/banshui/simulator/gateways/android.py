"""SMS Gateway for Android (capcom6/android-sms-gateway): its `sms:received` webhook.

A JSON envelope signed with `X-Signature` = hex(HMAC-SHA256(secret, raw body +
X-Timestamp)), the timestamp in Unix seconds. Every post, a retry included, has a
new top-level `id` and a fresh timestamp; the payload stays the same, and its
`messageId` is derived from the content, so it is not unique.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from banshui.simulator.clock import SHANGHAI
from banshui.simulator.gateways.posting import (
    Arrival,
    Posting,
    e164,
    json_body,
    json_posting,
    secret_of,
    unix_millis,
    unix_seconds,
)
from banshui.simulator.state import Delivery

RETRY_IS_IDENTICAL = False


def sign(secret: str, body: bytes, timestamp: str) -> str:
    return hmac.new(
        secret.encode(), body + timestamp.encode(), hashlib.sha256
    ).hexdigest()


def envelope(arrival: Arrival) -> dict[str, object]:
    sms, delivery = arrival.sms, arrival.delivery
    received_at = arrival.received_at.astimezone(SHANGHAI)
    return {
        "deviceId": device_id(delivery),
        "event": "sms:received",
        "id": secrets.token_urlsafe(15),
        "webhookId": delivery.webhook_id or _derived("webhook", delivery.url, 21),
        "payload": {
            "messageId": _message_id(arrival),
            "message": sms.text,
            "sender": sms.sender,
            "recipient": e164(sms.phone),
            "simNumber": delivery.slot,
            "receivedAt": received_at.isoformat(timespec="milliseconds"),
        },
    }


def post(arrival: Arrival, stamp: datetime) -> Posting:
    body = json_body(envelope(arrival))
    timestamp = str(unix_seconds(stamp))
    signature = sign(secret_of(arrival.delivery), body, timestamp)
    return json_posting(body, {"X-Timestamp": timestamp, "X-Signature": signature})


def device_id(delivery: Delivery) -> str:
    return delivery.device_id or _derived("device", delivery.device_mark, 32)


def _message_id(arrival: Arrival) -> str:
    # Like the app's: a hash of what the SMS says and when the SMSC stamped it.
    sms = arrival.sms
    stamped = unix_millis(arrival.received_at)
    return _derived("message", f"{sms.sender}\n{sms.text}\n{stamped}", 16)


def _derived(kind: str, text: str, length: int) -> str:
    return hashlib.sha256(f"{kind}:{text}".encode()).hexdigest()[:length]
