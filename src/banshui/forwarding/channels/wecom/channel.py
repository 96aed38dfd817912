"""Posting to a WeCom (企业微信) group robot (群机器人).

``POST {url}`` with ``{"msgtype": "text", "text": {"content": …}}``; the robot
answers 200 with ``errcode``, and anything but 0 is a failure. The robot URL
carries its key, and anyone holding it can post to the group: it is sealed like
a secret and never shown again.
"""

from __future__ import annotations

from typing import Any

import httpx

from banshui.forwarding.channels.answers import post, robot_answer
from banshui.forwarding.channels.base import Outgoing
from banshui.forwarding.channels.settings import http_url, no_secret, only, required

# -1 is "system busy", 45009 the robot's rate limit (20 a minute): try again.
TRANSIENT_ERRCODES = {-1, 45009}


class WeCom:
    kind = "wecom"
    sends_sms = False
    sealed_keys = frozenset({"url"})

    def configure(self, config: dict[str, str], secret: str | None) -> dict[str, str]:
        values = only(config, {"url"})
        no_secret(secret, "the key is part of the robot's url")
        return {"url": http_url(required(values, "url"), "url")}

    async def send(
        self,
        message: Outgoing,
        config: dict[str, Any],
        secret: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        body = {"msgtype": "text", "text": {"content": message.forwarded_text}}
        response = await post(http, str(config["url"]), json=body)
        robot_answer(response, "errcode", "errmsg", TRANSIENT_ERRCODES)
