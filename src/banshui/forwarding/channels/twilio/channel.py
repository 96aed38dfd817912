"""Sending an SMS to the bound phone with Twilio's Messages API.

``POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json``, basic auth
with the account sid and the auth token (the secret), form fields ``To``,
``From`` and ``Body``. ``base_url`` defaults to Twilio's own.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from banshui.core.errors import InvalidInput
from banshui.forwarding.channels.answers import expect_success, post
from banshui.forwarding.channels.base import Outgoing, phone_e164
from banshui.forwarding.channels.settings import (
    http_url,
    need_secret,
    only,
    required,
)

DEFAULT_BASE_URL = "https://api.twilio.com"
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# An E.164 number, or an alphanumeric sender id where the country allows one.
_FROM = re.compile(r"^(\+[1-9][0-9]{6,14}|[A-Za-z0-9 ]{1,11})$")


class Twilio:
    kind = "twilio"
    sends_sms = True
    sealed_keys: frozenset[str] = frozenset()

    def configure(self, config: dict[str, str], secret: str | None) -> dict[str, str]:
        values = only(config, {"account_sid", "from", "base_url"})
        need_secret(secret, "the account's auth token")
        sid = required(values, "account_sid")
        if not _ACCOUNT_SID.match(sid):
            raise InvalidInput(
                "account_sid must be AC followed by 32 hex digits",
                field="config.account_sid",
            )
        sender = required(values, "from")
        if not _FROM.match(sender):
            raise InvalidInput(
                "from must be an E.164 number such as +15005550006",
                field="config.from",
            )
        base = http_url(values.get("base_url") or DEFAULT_BASE_URL, "base_url")
        return {"account_sid": sid, "from": sender, "base_url": base}

    async def send(
        self,
        message: Outgoing,
        config: dict[str, Any],
        secret: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        sid = str(config["account_sid"])
        url = f"{config['base_url']}/2010-04-01/Accounts/{sid}/Messages.json"
        form = {
            "To": phone_e164(message),
            "From": str(config["from"]),
            "Body": message.forwarded_text,
        }
        response = await post(
            http, url, data=form, auth=httpx.BasicAuth(sid, secret or "")
        )
        expect_success(response)
