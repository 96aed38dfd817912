"""Secrets at rest: AES-GCM with a random nonce, bound to what they belong to."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
PREFIX = "v1:"


class VaultError(Exception):
    """A stored secret that does not decrypt with this key."""


class Vault:
    """Encrypts a secret for one purpose; the purpose is checked on the way out."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, token: str, purpose: str) -> str:
        if not token.startswith(PREFIX):
            raise VaultError("not a sealed secret")

        try:
            raw = base64.b64decode(token[len(PREFIX) :], validate=True)
        except binascii.Error:
            raise VaultError("not a sealed secret") from None
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        if len(nonce) < NONCE_BYTES:
            raise VaultError("not a sealed secret")
        try:
            return self._aead.decrypt(nonce, sealed, purpose.encode()).decode()
        except InvalidTag:
            raise VaultError(
                f"the {purpose} secret does not open with this key"
            ) from None
