"""The login site's envelope, as banshui writes and reads it.

A channel (安全通道) is opened once: the site's SM2 public key is fetched, a fresh
session key (16 bytes for SM4, 32 for HMAC-SHA256) goes to it SM2-encrypted, and
from then on every request carries its JSON as a sealed ``datagram`` with a
``timestamp`` and a ``signature``; success answers come back sealed the same way.
The simulator reads envelopes with code of its own: the two share nothing, so a
mistake on either side shows up as a refusal instead of agreeing with itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gmalg
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SM4_KEY = 16
MAC_KEY = 32
IV = 16
PKCS7_BITS = 128


class EnvelopeError(ValueError):
    """An answer that does not open: wrong signature, or not sealed JSON."""


def _millis() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class SessionKey:
    """The keys of one channel; only their SM2 ciphertext ever leaves banshui."""

    cipher: bytes
    mac: bytes

    @classmethod
    def fresh(cls) -> SessionKey:
        return cls(secrets.token_bytes(SM4_KEY), secrets.token_bytes(MAC_KEY))

    def for_site(self, public_key_hex: str) -> str:
        """The key material SM2-encrypted (C1C3C2) to the site's public key, hex."""
        try:
            site = gmalg.SM2(pk=bytes.fromhex(public_key_hex))
            return str(site.encrypt(self.cipher + self.mac).hex())
        except (ValueError, gmalg.errors.GMError) as error:
            raise EnvelopeError(f"the site's public key is unusable: {error}") from None


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel the site opened; seals requests and opens answers for one step."""

    channel_id: str
    key: SessionKey
    clock: Callable[[], int] = _millis

    def seal(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        timestamp = self.clock()
        datagram = self._encrypt(json.dumps(body, ensure_ascii=False).encode())
        return {
            "channel": self.channel_id,
            "datagram": datagram,
            "timestamp": timestamp,
            "signature": self._mac("request", timestamp, path, datagram),
        }

    def open(self, path: str, answer: dict[str, Any]) -> dict[str, Any]:
        """The data of a sealed answer to a request for ``path``."""
        try:
            timestamp = int(answer["timestamp"])
            datagram = str(answer["datagram"])
            given = str(answer["signature"])
        except (KeyError, TypeError, ValueError):
            raise EnvelopeError("the answer is not an envelope") from None

        expected = self._mac("answer", timestamp, path, datagram)
        if not hmac.compare_digest(expected, given):
            raise EnvelopeError("the answer's signature does not match")

        plain = self._decrypt(datagram)
        try:
            data = json.loads(plain)
        except ValueError:
            raise EnvelopeError("the answer's datagram is not JSON") from None
        if not isinstance(data, dict):
            raise EnvelopeError("the answer's datagram is not a JSON object")
        return data

    def _mac(self, direction: str, timestamp: int, path: str, datagram: str) -> str:
        text = "\n".join((direction, self.channel_id, str(timestamp), path, datagram))
        return hmac.new(self.key.mac, text.encode(), hashlib.sha256).hexdigest()

    def _encrypt(self, plain: bytes) -> str:
        iv = secrets.token_bytes(IV)
        padder = padding.PKCS7(PKCS7_BITS).padder()
        block = padder.update(plain) + padder.finalize()
        sm4 = Cipher(algorithms.SM4(self.key.cipher), modes.CBC(iv)).encryptor()
        return base64.b64encode(iv + sm4.update(block) + sm4.finalize()).decode()

    def _decrypt(self, datagram: str) -> bytes:
        try:
            raw = base64.b64decode(datagram, validate=True)
            sm4 = Cipher(algorithms.SM4(self.key.cipher), modes.CBC(raw[:IV]))
            decryptor = sm4.decryptor()
            block = decryptor.update(raw[IV:]) + decryptor.finalize()
            unpadder = padding.PKCS7(PKCS7_BITS).unpadder()
            return unpadder.update(block) + unpadder.finalize()
        except (binascii.Error, ValueError) as error:
            raise EnvelopeError(
                f"the answer's datagram does not open: {error}"
            ) from None
