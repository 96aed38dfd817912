"""SmsForwarder's signature: HMAC-SHA256 over the timestamp and the secret.

The signature covers neither the SMS nor the URL, so a captured (timestamp, sign)
pair can be sent again with other content while it is inside the window: the
inbox remembers used pairs, and the window is kept as short as the app's own
server keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from banshui.sms.gateways.base import SignatureRefused, StaleTimestamp

# How far the phone's clock may be from ours, either way.
WINDOW = timedelta(seconds=600)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# The app encodes at most twice; the cap only keeps a hostile value cheap.
_MAX_UNQUOTES = 3
_MAX_SIGN_LENGTH = 200


def expected_sign(timestamp: str, secret: str) -> str:
    """The raw base64 signature the app computes for this timestamp."""
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def timestamp_ms(value: str | None) -> int | None:
    """Unix time in milliseconds, as the app sends it; None when it is not one."""
    if value is None or not _TIMESTAMP.fullmatch(value.strip()):
        return None
    return int(value.strip())


def normalise_sign(value: str | None) -> str:
    """The sign as raw base64, however many times it was URL-encoded on the way."""
    if not value:
        raise SignatureRefused("no sign")
    if len(value) > _MAX_SIGN_LENGTH:
        raise SignatureRefused("the sign is too long")

    for _ in range(_MAX_UNQUOTES):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded

    # A "+" left unencoded becomes a space when a form or query is decoded.
    value = value.replace(" ", "+")
    if not _BASE64.fullmatch(value):
        raise SignatureRefused("the sign is not base64")
    return value


def check(timestamp: str | None, sign: str | None, secret: str, now: datetime) -> str:
    """The nonce of a request whose sign holds and whose timestamp is fresh."""
    if not secret:
        raise SignatureRefused("the source has no secret")

    milliseconds = timestamp_ms(timestamp)
    if milliseconds is None:
        raise SignatureRefused("no timestamp, or not whole milliseconds")

    given = normalise_sign(sign)
    expected = expected_sign(str(milliseconds), secret)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused("the sign does not match")

    _check_window(milliseconds, now)
    return f"{milliseconds}:{expected}"


def _check_window(milliseconds: int, now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    now_ms = (now - _EPOCH) // _MILLISECOND
    if abs(now_ms - milliseconds) > WINDOW // _MILLISECOND:
        raise StaleTimestamp("the timestamp is outside the window")
