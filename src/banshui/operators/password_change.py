"""An operator changes their own password: the current one first, then the new.

A wrong current password counts as a wrong sign-in does (five in a row lock the
operator), and that lock also ends the operator's sessions: whoever holds this
session is guessing. A change ends every other session of the operator, so a
browser left signed in elsewhere is out.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Forbidden, InvalidInput, NotFound
from banshui.operators.models import Operator
from banshui.operators.passwords import (
    MAX_LENGTH,
    hash_password,
    password_matches,
    valid_password,
)
from banshui.operators.sessions import end_sessions
from banshui.operators.signin import LOCK, MAX_FAILURES


class WrongPassword(Forbidden):
    """The current password given is not the operator's; ``locked`` if that was
    one too many and the operator's sessions ended."""

    def __init__(self, message: str, *, field: str, locked: bool) -> None:
        super().__init__(message, field=field)
        self.locked = locked


async def change_own_password(
    db: Database,
    clock: Clock,
    operator_id: int,
    current: str,
    new: str,
    keep_token: str | None,
) -> None:
    """Set the new password; ``keep_token``'s session is the one that stays."""
    operator = await _operator(db, operator_id)
    matched = await asyncio.to_thread(
        password_matches, operator.password_hash, current[:MAX_LENGTH]
    )
    if not matched:
        locked = await _count_wrong(db, clock, operator)
        raise WrongPassword(
            "is not the current password", field="current_password", locked=locked
        )

    valid_password(new, field="new_password")
    if new == current:
        raise InvalidInput("must differ from the current one", field="new_password")
    hashed = await asyncio.to_thread(hash_password, new)

    async with db.transaction() as session:
        await session.execute(
            update(Operator)
            .where(Operator.id == operator.id)
            .values(password_hash=hashed, failures=0)
        )
        await end_sessions(session, operator.id, keep_token)
        record(
            session,
            clock,
            actor=f"console:{operator.name}",
            action="operator.password_changed",
            subject=f"operator:{operator.name}",
        )


async def _operator(db: Database, operator_id: int) -> Operator:
    async with db.session() as session:
        operator = await session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"no operator {operator_id}")
    return operator


async def _count_wrong(db: Database, clock: Clock, operator: Operator) -> bool:
    """Count the wrong try; True when it locked the operator out."""
    now = clock.now()
    async with db.transaction() as session:
        failures = await session.scalar(
            update(Operator)
            .where(Operator.id == operator.id)
            .values(failures=Operator.failures + 1)
            .returning(Operator.failures)
        )
        locked = int(failures or 0) >= MAX_FAILURES
        record(
            session,
            clock,
            actor=f"console:{operator.name}",
            action="operator.password_change_refused",
            subject=f"operator:{operator.name}",
            detail="locked" if locked else None,
        )
        if not locked:
            return False

        await session.execute(
            update(Operator)
            .where(Operator.id == operator.id)
            .values(failures=0, locked_until=now + LOCK)
        )
        await end_sessions(session, operator.id)
    return True
