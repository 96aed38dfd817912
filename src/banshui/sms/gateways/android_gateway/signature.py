"""SMS Gateway for Android's signature: HMAC-SHA256 over the raw body and X-Timestamp.

``X-Signature`` is hex(HMAC-SHA256(secret, raw body + X-Timestamp)), the timestamp
appended as sent, with no separator. It covers the whole body, so a captured
request cannot carry other content; the timestamp, held to a window, bounds how
long it can be sent again, and the same SMS sent again is stored once anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from banshui.sms.gateways.base import SignatureRefused, StaleTimestamp

TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_HEADER = "x-signature"
# How far the phone's clock may be from ours, either way.
WINDOW = timedelta(seconds=300)

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def expected_signature(secret: str, body: bytes, timestamp: str) -> str:
    """The lower-case hex signature the app computes."""
    message = body + timestamp.encode("ascii")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check(headers: dict[str, str], body: bytes, secret: str, now: datetime) -> None:
    """Raise SignatureRefused unless the signature holds and its timestamp is fresh."""
    if not secret:
        raise SignatureRefused("the source has no secret")

    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureRefused("no X-Timestamp, or not whole seconds")
    given = headers.get(SIGNATURE_HEADER, "")
    if not _HEX_SHA256.fullmatch(given):
        raise SignatureRefused("no X-Signature, or not a hex SHA-256")

    expected = expected_signature(secret, body, timestamp)
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise SignatureRefused("the signature does not match")

    if abs(now.timestamp() - int(timestamp)) > WINDOW.total_seconds():
        raise StaleTimestamp("the timestamp is outside the window")
