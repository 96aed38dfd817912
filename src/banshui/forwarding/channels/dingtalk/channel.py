"""Posting to a DingTalk (钉钉) custom robot, signed (加签) when it has a secret.

``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(secret,
f"{timestamp}\\n{secret}")) join the robot URL's query, URL-encoded; the body is
``{"msgtype": "text", "text": {"content": …}}`` and a non-zero ``errcode`` in
the answer is a failure. The robot URL carries its access token: it is sealed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx

from banshui.forwarding.channels.answers import post, robot_answer
from banshui.forwarding.channels.base import Outgoing
from banshui.forwarding.channels.settings import http_url, only, required

# -1 is "system busy", 130101 "sending too fast" (20 a minute): try again.
TRANSIENT_ERRCODES = {-1, 130101}


class DingTalk:
    kind = "dingtalk"
    sends_sms = False
    sealed_keys = frozenset({"url"})

    def configure(self, config: dict[str, str], secret: str | None) -> dict[str, str]:
        values = only(config, {"url"})
        return {"url": http_url(required(values, "url"), "url")}

    async def send(
        self,
        message: Outgoing,
        config: dict[str, Any],
        secret: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        url = httpx.URL(str(config["url"]))
        if secret:
            timestamp = int(message.sent_at.timestamp() * 1000)
            url = url.copy_merge_params(
                {"timestamp": str(timestamp), "sign": sign(timestamp, secret)}
            )

        body = {"msgtype": "text", "text": {"content": message.forwarded_text}}
        response = await post(http, url, json=body)
        robot_answer(response, "errcode", "errmsg", TRANSIENT_ERRCODES)


def sign(timestamp_ms: int, secret: str) -> str:
    """The raw base64 sign; httpx URL-encodes it as a query value."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
