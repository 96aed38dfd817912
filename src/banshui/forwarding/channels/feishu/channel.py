"""Posting to a Feishu (飞书) custom robot, signed when it has a secret.

The body is ``{"msg_type": "text", "content": {"text": …}}`` and, with a secret,
``timestamp`` (seconds, as a string) and ``sign`` = base64(HMAC-SHA256 keyed with
f"{timestamp}\\n{secret}" over nothing) — Feishu keys the HMAC with the string,
unlike DingTalk. A non-zero ``code`` in the answer is a failure. The robot URL
is its credential: it is sealed.
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

# 9499 is Feishu's "too many requests", 11232 the robot's frequency limit.
TRANSIENT_CODES = {9499, 11232}


class Feishu:
    kind = "feishu"
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
        body: dict[str, Any] = {}
        if secret:
            timestamp = int(message.sent_at.timestamp())
            body = {"timestamp": str(timestamp), "sign": sign(timestamp, secret)}
        body |= {"msg_type": "text", "content": {"text": message.forwarded_text}}

        response = await post(http, str(config["url"]), json=body)
        robot_answer(response, "code", "msg", TRANSIENT_CODES)


def sign(timestamp: int, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
