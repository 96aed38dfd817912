"""The tests' own client of the login envelope, built on gmssl.

The simulator reads envelopes with gmalg and ``cryptography``, banshui's driver
writes them with its own code; this third implementation on another library is
what the simulator's tests speak, so none of the three can agree with another by
sharing a mistake.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import weakref
from typing import Any

import httpx
from gmssl import sm2, sm4

CHANNEL = "/api/login/channel"
UNKNOWN_CHANNEL = 2113


class Tpass:
    """One channel to a simulator, opened on first use and again when forgotten."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.channel: str | None = None
        self.sm4_key = b""
        self.mac_key = b""

    async def open(self) -> None:
        published = (await self.http.get("/api/login/public-key")).json()
        public_hex = published["data"]["public_key"]
        self.sm4_key, self.mac_key = os.urandom(16), os.urandom(32)
        # gmssl wants the point without its 04 prefix, and writes C1C3C2 without it.
        # Its constructor lstrip()s "0" and "4" characters, eating the start of an X
        # that begins with either (one key in eight), so the point is set after it.
        cipher = sm2.CryptSM2(private_key=None, public_key="", mode=1)
        cipher.public_key = public_hex[2:]
        sealed = "04" + cipher.encrypt(self.sm4_key + self.mac_key).hex()

        answer = (await self.http.post(CHANNEL, json={"key": sealed})).json()
        assert answer["code"] == 1000, answer
        self.channel = answer["channel"]
        assert self.opened(CHANNEL, answer) == {"opened": True}

    def envelope(
        self, path: str, body: object, timestamp: int | None = None
    ) -> dict[str, Any]:
        assert self.channel is not None
        stamp = timestamp if timestamp is not None else int(time.time() * 1000)
        datagram = self._seal(json.dumps(body).encode())
        return {
            "channel": self.channel,
            "datagram": datagram,
            "timestamp": stamp,
            "signature": self.sign("request", stamp, path, datagram),
        }

    def sign(self, direction: str, timestamp: int, path: str, datagram: str) -> str:
        signed = f"{direction}\n{self.channel}\n{timestamp}\n{path}\n{datagram}"
        return hmac.new(self.mac_key, signed.encode(), hashlib.sha256).hexdigest()

    async def post(
        self, path: str, body: object, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """The raw response to an enveloped request; a forgotten channel is reopened."""
        if self.channel is None:
            await self.open()
        response = await self._send(path, body, headers)
        if _refused_with(response, UNKNOWN_CHANNEL):
            await self.open()
            response = await self._send(path, body, headers)
        return response

    async def call(
        self, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The answer as the step gave it: `{"code": 1000, "data"}` or a refusal."""
        response = await self.post(path, body if body is not None else {}, headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if answer.get("code") != 1000:
            return answer
        return {"code": 1000, "data": self.opened(path, answer)}

    def opened(self, path: str, answer: dict[str, Any]) -> dict[str, Any]:
        """The data of a sealed answer, once its signature is checked."""
        expected = self.sign("answer", answer["timestamp"], path, answer["datagram"])
        assert hmac.compare_digest(expected, answer["signature"]), answer
        raw = base64.b64decode(answer["datagram"])
        crypt = sm4.CryptSM4(mode=sm4.SM4_DECRYPT)
        crypt.set_key(self.sm4_key, sm4.SM4_DECRYPT)
        data: dict[str, Any] = json.loads(crypt.crypt_cbc(raw[:16], raw[16:]))
        return data

    async def _send(
        self, path: str, body: object, headers: dict[str, str] | None
    ) -> httpx.Response:
        return await self.http.post(
            path, json=self.envelope(path, body), headers=headers
        )

    def _seal(self, plain: bytes) -> str:
        iv = os.urandom(16)
        crypt = sm4.CryptSM4()
        crypt.set_key(self.sm4_key, sm4.SM4_ENCRYPT)
        return base64.b64encode(iv + crypt.crypt_cbc(iv, plain)).decode()


_CLIENTS: weakref.WeakKeyDictionary[httpx.AsyncClient, Tpass] = (
    weakref.WeakKeyDictionary()
)


def tpass(http: httpx.AsyncClient) -> Tpass:
    """The channel of this HTTP client, made once."""
    made = _CLIENTS.get(http)
    if made is None:
        made = _CLIENTS[http] = Tpass(http)
    return made


def _refused_with(response: httpx.Response, code: int) -> bool:
    try:
        return bool(response.json().get("code") == code)
    except ValueError:
        return False
