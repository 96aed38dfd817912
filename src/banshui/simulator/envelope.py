"""The login site's envelope, as the bureau reads and writes it.

The shape follows the public re-implementations of the tpass login: the site
publishes an SM2 public key; the client sends a fresh session key encrypted under
it; every later request and answer carries its JSON as a ``datagram`` (SM4-CBC,
base64), a ``timestamp`` and an HMAC-SHA256 ``signature``.

This is the bureau's own implementation: banshui's driver has another, and the two
share no code, so a mistake in one shows up as a refusal by the other.

Session key: 48 bytes, SM2-encrypted (C1C3C2): 16 for SM4, then 32 for HMAC.
Datagram: base64(IV(16) || SM4-CBC-PKCS7(UTF-8 JSON object)).
Signature: hex HMAC-SHA256 over "<direction>\\n<channel>\\n<timestamp>\\n<path>\\n
<datagram>", direction ``request`` or ``answer``, path the step below the site.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any, Literal

import gmalg
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from banshui.simulator import errors

SM4_KEY_BYTES = 16
MAC_KEY_BYTES = 32
BLOCK_BYTES = 16

Direction = Literal["request", "answer"]


@dataclass(frozen=True)
class KeyPair:
    """The site's SM2 key pair: the public half is published, hex 04||X||Y."""

    private: bytes
    public: bytes

    @classmethod
    def generate(cls) -> "KeyPair":
        private, public = gmalg.SM2().generate_keypair()
        return cls(private, public)

    def open_session_key(self, ciphertext_hex: str) -> tuple[bytes, bytes]:
        """The SM4 and HMAC keys a client sent; 2115 when they cannot be read."""
        try:
            ciphertext = bytes.fromhex(ciphertext_hex)
            plain = gmalg.SM2(sk=self.private, pk=self.public).decrypt(ciphertext)
        except (ValueError, IndexError, ArithmeticError, gmalg.errors.GMError):
            raise errors.session_key_unreadable() from None

        if len(plain) != SM4_KEY_BYTES + MAC_KEY_BYTES:
            raise errors.session_key_unreadable()

        return plain[:SM4_KEY_BYTES], plain[SM4_KEY_BYTES:]


def open_datagram(sm4_key: bytes, datagram: str) -> dict[str, Any]:
    """The JSON object inside a datagram; 2112 when it is not one."""
    try:
        sealed = base64.b64decode(datagram, validate=True)
        iv, body = sealed[:BLOCK_BYTES], sealed[BLOCK_BYTES:]
        decryptor = Cipher(algorithms.SM4(sm4_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(body) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK_BYTES * 8).unpadder()
        data = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.datagram_unreadable() from None

    if not isinstance(data, dict):
        raise errors.datagram_unreadable()

    return data


def seal_datagram(sm4_key: bytes, data: dict[str, Any]) -> str:
    iv = os.urandom(BLOCK_BYTES)
    padder = padding.PKCS7(BLOCK_BYTES * 8).padder()
    plain = json.dumps(data, ensure_ascii=False).encode()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(sm4_key), modes.CBC(iv)).encryptor()
    return base64.b64encode(
        iv + encryptor.update(padded) + encryptor.finalize()
    ).decode()


def signature(
    mac_key: bytes,
    direction: Direction,
    channel: str,
    timestamp: int,
    path: str,
    datagram: str,
) -> str:
    signed = f"{direction}\n{channel}\n{timestamp}\n{path}\n{datagram}"
    return hmac.new(mac_key, signed.encode(), hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
