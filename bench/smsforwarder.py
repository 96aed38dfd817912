"""SmsForwarder webhook bodies as the app sends them: default template, signed.

The load generator and the hand-off benchmark both post these. Written from
docs/gateways.md, apart from banshui's own parser, so a mistake cannot hide by being
made the same way on both ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

SENDER = "12366"
SHANGHAI = timezone(timedelta(hours=8))


def sign(timestamp_ms: int, secret: str) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded once."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote(base64.b64encode(digest).decode("ascii"), safe="")


def login_text(code: str) -> str:
    return (
        f"【中国税务】您的登录验证码：{code}，请确认您正通过浏览器登录"
        "自然人电子税务局官方网站，切勿通过其他应用或小程序登录。"
    )


def form_body(
    text: str, number: str, secret: str, timestamp_ms: int | None = None
) -> bytes:
    """A form-encoded request body, the app's default, with the default template."""
    stamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    received = datetime.fromtimestamp(stamp / 1000, SHANGHAI)
    content = "\n".join(
        [
            SENDER,
            text,
            f"SIM1_中国移动_{number}",
            received.strftime("%Y-%m-%d %H:%M:%S"),
            "bench-phone",
        ]
    )
    fields = {"from": SENDER, "content": content, "timestamp": str(stamp)}
    # The sign is encoded once already, as the app's default mode sends it.
    return (urlencode(fields) + "&sign=" + sign(stamp, secret)).encode()
