"""Sending through the phone's own SMS Gateway for Android, to the bound phone.

``POST {base_url}/message`` with HTTP basic auth (the device's user and password)
and ``{"textMessage": {"text": …}, "phoneNumbers": ["+86…"]}``: the current shape
of the app's API (the older ``{"message": …}`` one is not used). ``base_url`` is
the phone's local server (``http://<phone>:8080``) or the cloud server's
``…/3rdparty/v1``; ``sim_number`` (1–3) picks the SIM that sends.
"""

from __future__ import annotations

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


class AndroidGateway:
    kind = "android-gateway"
    sends_sms = True
    sealed_keys: frozenset[str] = frozenset()

    def configure(self, config: dict[str, str], secret: str | None) -> dict[str, str]:
        values = only(config, {"base_url", "user", "sim_number"})
        need_secret(secret, "the device's password")
        checked = {
            "base_url": http_url(required(values, "base_url"), "base_url"),
            "user": required(values, "user"),
        }
        sim = values.get("sim_number")
        if sim:
            if sim not in ("1", "2", "3"):
                raise InvalidInput(
                    "sim_number must be 1, 2 or 3", field="config.sim_number"
                )
            checked["sim_number"] = sim
        return checked

    async def send(
        self,
        message: Outgoing,
        config: dict[str, Any],
        secret: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        body: dict[str, Any] = {
            "textMessage": {"text": message.forwarded_text},
            "phoneNumbers": [phone_e164(message)],
        }
        if config.get("sim_number"):
            body["simNumber"] = int(config["sim_number"])

        auth = httpx.BasicAuth(str(config["user"]), secret or "")
        response = await post(
            http, f"{config['base_url']}/message", json=body, auth=auth
        )
        expect_success(response)
