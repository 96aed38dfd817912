"""POSTing the SMS as JSON, signed with banshui's own signature (``banshui.signing``).

The body is ``{"id", "number", "sender", "text", "received_at", "code"}``; ``id``
is the stored SMS's id, the same on every retry, so the receiver can tell a
second delivery from a new SMS. The headers are those of ``signed_headers`` with
the channel's ``key`` (default ``banshui``) and its secret; the receiver checks
them with ``banshui.signing.verify`` over the path it was called on.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from banshui.core.errors import InvalidInput
from banshui.forwarding.channels.answers import expect_success, post
from banshui.forwarding.channels.base import Outgoing
from banshui.forwarding.channels.settings import (
    http_url,
    need_secret,
    only,
    required,
)
from banshui.signing import signed_headers

DEFAULT_KEY = "banshui"
MIN_SECRET = 16


class Webhook:
    kind = "webhook"
    sends_sms = False
    sealed_keys: frozenset[str] = frozenset()

    def configure(self, config: dict[str, str], secret: str | None) -> dict[str, str]:
        values = only(config, {"url", "key"})
        if len(need_secret(secret, "the signing secret")) < MIN_SECRET:
            raise InvalidInput(
                f"must be at least {MIN_SECRET} characters", field="secret"
            )
        url = http_url(required(values, "url"), "url")
        key = values.get("key") or DEFAULT_KEY
        if len(key) > 64:
            raise InvalidInput("key must be at most 64 characters", field="config.key")
        return {"url": url, "key": key}

    async def send(
        self,
        message: Outgoing,
        config: dict[str, Any],
        secret: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        body = json.dumps(payload(message), ensure_ascii=False).encode()
        url = httpx.URL(str(config["url"]))
        headers = signed_headers(
            str(config["key"]),
            secret or "",
            "POST",
            url.raw_path.decode("ascii"),
            body,
            now=message.sent_at.timestamp(),
        )
        headers["content-type"] = "application/json"
        response = await post(http, url, content=body, headers=headers)
        expect_success(response)


def payload(message: Outgoing) -> dict[str, Any]:
    return {
        "id": message.sms_id,
        "number": message.number,
        "sender": message.sender,
        "text": message.text,
        "received_at": message.received_at.isoformat(),
        "code": message.code,
    }
