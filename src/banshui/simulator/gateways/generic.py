"""banshui's own generic signed JSON, as a provider of SIM-less numbers posts it.

Body `{"id", "number", "sender", "text", "sent_at"}`; headers `X-Banshui-Key`,
`X-Banshui-Timestamp` (Unix seconds), `X-Banshui-Nonce` and `X-Banshui-Signature`
= hex(HMAC-SHA256(secret, METHOD, path with query, timestamp, nonce and
hex(SHA-256(body)) joined by newlines)). Written here again on purpose: the
simulator shares no signing code with the receiver it tests (DESIGN §3).
"""

import hashlib
import hmac
import secrets
from datetime import datetime

import httpx

from banshui.simulator.clock import SHANGHAI
from banshui.simulator.gateways.posting import (
    Arrival,
    Posting,
    json_body,
    json_posting,
    secret_of,
    unix_seconds,
)

RETRY_IS_IDENTICAL = False
METHOD = "POST"


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, timestamp, nonce, digest])


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def path_with_query(url: str) -> str:
    """The path and query exactly as the HTTP client puts them on the request line."""
    return httpx.URL(url).raw_path.decode("ascii")


def document(arrival: Arrival) -> dict[str, str]:
    sms = arrival.sms
    return {
        "id": f"sim-{arrival.message_id}",
        "number": sms.phone,
        "sender": sms.sender,
        "text": sms.text,
        "sent_at": arrival.received_at.astimezone(SHANGHAI).isoformat(),
    }


def post(arrival: Arrival, stamp: datetime) -> Posting:
    delivery = arrival.delivery
    body = json_body(document(arrival))
    timestamp = str(unix_seconds(stamp))
    nonce = secrets.token_urlsafe(24)
    message = canonical(METHOD, path_with_query(delivery.url), timestamp, nonce, body)
    headers = {
        "X-Banshui-Key": delivery.key or "",
        "X-Banshui-Timestamp": timestamp,
        "X-Banshui-Nonce": nonce,
        "X-Banshui-Signature": sign(secret_of(delivery), message),
    }
    return json_posting(body, headers)
