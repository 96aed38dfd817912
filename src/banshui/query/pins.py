"""Per-number PINs for the query page, kept only as argon2 hashes.

They replace the mini-program's one fixed password that every number shared.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import InvalidInput, NotFound
from banshui.numbers.models import Number
from banshui.numbers.phones import normalize_mobile

MIN_LENGTH = 6
MAX_LENGTH = 64
# Guessed first by anyone: the guide's shared password and the usual suspects.
GUESSABLE = frozenset({"906906", "123456", "654321", "123123", "112233", "121212"})

_hasher = PasswordHasher()


def valid_pin(pin: str) -> str:
    """The PIN as it will be stored, or an error naming the field ``pin``."""
    pin = pin.strip()
    if not MIN_LENGTH <= len(pin) <= MAX_LENGTH:
        raise InvalidInput(
            f"the PIN must be {MIN_LENGTH}–{MAX_LENGTH} characters, not {len(pin)}",
            field="pin",
        )
    if pin in GUESSABLE or len(set(pin)) == 1:
        raise InvalidInput("the PIN is too easy to guess: choose another", field="pin")
    return pin


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def pin_matches(pin_hash: str | None, pin: str) -> bool:
    """Whether the PIN fits; as slow without a hash, so timing tells nothing."""
    try:
        matched = _hasher.verify(pin_hash or _stand_in_hash(), pin.strip())
    except (VerificationError, InvalidHashError):
        return False
    return matched and pin_hash is not None


async def set_pin(
    db: Database, clock: Clock, number: str, pin: str, actor: str = "cli"
) -> str:
    """Give a known number a new PIN; its failures and lockout are cleared."""
    msisdn = normalize_mobile(number)
    pin_hash = hash_pin(valid_pin(pin))

    async with db.transaction() as session:
        found = await session.scalar(select(Number).where(Number.msisdn == msisdn))
        if found is None:
            raise NotFound(f"{msisdn} is not a number banshui knows", field="number")
        found.pin_hash = pin_hash
        found.pin_failures = 0
        found.pin_locked_until = None
        record(
            session,
            clock,
            actor=actor,
            action="number.pin_set",
            subject=f"number:{msisdn}",
        )
    return msisdn


@cache
def _stand_in_hash() -> str:
    return _hasher.hash("no PIN is set for this number")
