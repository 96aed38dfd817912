"""Operator passwords, kept only as argon2 hashes."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from banshui.core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 128

_hasher = PasswordHasher()


def valid_password(password: str, field: str = "password") -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"the password must be {MIN_LENGTH}–{MAX_LENGTH} characters, "
            f"not {len(password)}",
            field=field,
        )
    if len(set(password)) < 4:
        raise InvalidInput(
            "the password is too easy to guess: choose another", field=field
        )
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether it fits; as slow without a hash, so timing tells no name apart."""
    try:
        matched = _hasher.verify(password_hash or _stand_in_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


@cache
def _stand_in_hash() -> str:
    return _hasher.hash("no operator has this name")
