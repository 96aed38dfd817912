"""banshui's own request signature, for the generic gateway and the provider API.

The signature is hex(HMAC-SHA256(secret, canonical)) where canonical is, joined
by newlines: the method in capitals, the path with its query string as sent, the
timestamp (Unix seconds), the nonce, and hex(SHA-256(body)). It covers the body,
so a captured request cannot carry other content; the nonce, remembered for the
window, stops the same request being sent twice.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

KEY_HEADER = "x-banshui-key"
TIMESTAMP_HEADER = "x-banshui-timestamp"
NONCE_HEADER = "x-banshui-nonce"
SIGNATURE_HEADER = "x-banshui-signature"

WINDOW_SECONDS = 300
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class SignatureInvalid(Exception):
    """The request's signature does not hold; the reason is for logs only."""


class StaleSignature(SignatureInvalid):
    """The signature holds, but its timestamp is outside the window."""


@dataclass(frozen=True, slots=True)
class SignedRequest:
    key: str
    timestamp: int
    nonce: str


def canonical(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, str(timestamp), nonce, digest]).encode()


def signature(
    secret: str, method: str, path: str, timestamp: int, nonce: str, body: bytes
) -> str:
    message = canonical(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    key: str, secret: str, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The headers that sign a request (used by banshui's own clients)."""
    timestamp = int(now if now is not None else time.time())
    nonce = secrets.token_urlsafe(18)
    return {
        KEY_HEADER: key,
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, method, path, timestamp, nonce, body),
    }


def read_signed(headers: dict[str, str]) -> SignedRequest:
    """The key, timestamp and nonce a request claims; headers lower-cased."""
    key = headers.get(KEY_HEADER, "")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    if not key or not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise SignatureInvalid("missing key or timestamp")
    if not _NONCE.match(nonce):
        raise SignatureInvalid("missing or malformed nonce")
    return SignedRequest(key=key, timestamp=int(stamp), nonce=nonce)


def verify(
    secret: str,
    claimed: SignedRequest,
    headers: dict[str, str],
    method: str,
    path: str,
    body: bytes,
    now: datetime,
) -> None:
    """Raise SignatureInvalid unless the signature holds inside the window."""
    expected = signature(secret, method, path, claimed.timestamp, claimed.nonce, body)
    given = headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise SignatureInvalid("the signature does not match")
    if abs(now.timestamp() - claimed.timestamp) > WINDOW_SECONDS:
        raise StaleSignature("the timestamp is outside the window")
