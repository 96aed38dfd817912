"""Signing an operator in: password, lockout, a limit per client, audit.

Five wrong passwords in a row lock the operator for 15 minutes (even to the
right one). Each client address (an IPv6 one by its /64) may be refused 20 times
in 15 minutes, whatever names it tries; both are kept in the database, so a
restart resets neither. Every refusal reads the same, whether the name exists,
is locked or disabled, or the password is wrong.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.audit.log import record
from banshui.core.client_window import ClientWindow
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.locks import take_turn
from banshui.metrics import REFUSALS, count_refusal
from banshui.operators.models import Operator, SignInRefusal
from banshui.operators.passwords import MAX_LENGTH, password_matches
from banshui.operators.users import NAME_LENGTH

MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
CLIENT_WINDOW = timedelta(minutes=15)
CLIENT_LIMIT = 20
WINDOW = ClientWindow(SignInRefusal, CLIENT_LIMIT, CLIENT_WINDOW)

REFUSED = "用户名或密码不正确。连续输错 5 次，账号将锁定 15 分钟。"
TOO_MANY = "尝试次数过多，请 15 分钟后再试。"


class SignInRefused(Exception):
    """The sign-in is refused; the message is what the page says."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def sign_in(
    db: Database, clock: Clock, name: str, password: str, client: str
) -> Operator:
    """The operator these credentials belong to; ``SignInRefused`` otherwise."""
    # Both limits are reserved before the password is hashed, so a burst of
    # guesses sent at once is held to them as strictly as guesses one by one.
    attempt = await _reserve_client(db, clock, client)
    name = name.strip()[:NAME_LENGTH]

    found = await _operator(db, name)
    now = clock.now()
    reserved = (
        found is not None
        and _may_sign_in(found, now)
        and await _reserve_operator(db, found, now)
    )
    stored = found.password_hash if reserved and found is not None else None
    # An unknown or locked name costs the same hashing as a known one.
    matched = await asyncio.to_thread(password_matches, stored, password[:MAX_LENGTH])
    if not matched:
        await _refuse(db, clock, client, name, found if reserved else None)
        raise SignInRefused(REFUSED, 403)

    assert found is not None
    return await _admit(db, clock, attempt, client, found)


async def _reserve_client(db: Database, clock: Clock, client: str) -> int:
    """Count this try against the client's window first; 429 once it is full."""
    now = clock.now()
    async with db.transaction() as session:
        # Tries of one client at once are counted one after another.
        await take_turn(session, f"sign-in:{WINDOW.key(client)}")
        if await WINDOW.wait(session, client, now) is not None:
            REFUSALS.labels(face="console").inc()
            count_refusal("console", "rate_limited")
            raise SignInRefused(TOO_MANY, 429)
        attempt = SignInRefusal(client=WINDOW.key(client), at=now)
        session.add(attempt)
        await session.flush()
        return attempt.id


async def _reserve_operator(db: Database, operator: Operator, now: datetime) -> bool:
    """Take one of the operator's tries; False once locked or out of tries."""
    async with db.transaction() as session:
        taken = await session.scalar(
            update(Operator)
            .where(
                Operator.id == operator.id,
                Operator.failures < MAX_FAILURES,
                Operator.disabled.is_(False),
                (Operator.locked_until.is_(None)) | (Operator.locked_until <= now),
            )
            .values(failures=Operator.failures + 1)
            .returning(Operator.failures)
        )
    return taken is not None


async def _operator(db: Database, name: str) -> Operator | None:
    async with db.session() as session:
        found: Operator | None = await session.scalar(
            select(Operator).where(Operator.name == name)
        )
    return found


def _locked(operator: Operator, now: datetime) -> bool:
    return operator.locked_until is not None and operator.locked_until > now


def _may_sign_in(operator: Operator, now: datetime) -> bool:
    return not operator.disabled and not _locked(operator, now)


async def _refuse(
    db: Database, clock: Clock, client: str, name: str, operator: Operator | None
) -> None:
    """The try is counted already; an operator out of tries is locked."""
    REFUSALS.labels(face="console").inc()
    count_refusal("console", "wrong_password")
    now = clock.now()
    async with db.transaction() as session:
        await WINDOW.forget_old(session, now)
        record(
            session,
            clock,
            actor=client,
            action="operator.sign_in_refused",
            subject=f"operator:{name}",
        )
        if operator is not None:
            await _lock(session, clock, operator, client, now)


async def _lock(
    session: AsyncSession, clock: Clock, operator: Operator, client: str, now: datetime
) -> None:
    """Lock an operator out of tries; of refusals at once, only one locks."""
    until = now + LOCK
    locked = await session.scalar(
        update(Operator)
        .where(Operator.id == operator.id, Operator.failures >= MAX_FAILURES)
        .values(failures=0, locked_until=until)
        .returning(Operator.id)
    )
    if locked is None:
        return
    record(
        session,
        clock,
        actor=client,
        action="operator.locked",
        subject=f"operator:{operator.name}",
        detail=f"{MAX_FAILURES} wrong passwords: locked until {until.isoformat()}",
    )


async def _admit(
    db: Database, clock: Clock, attempt: int, client: str, operator: Operator
) -> Operator:
    now = clock.now()
    async with db.transaction() as session:
        current = await session.get(Operator, operator.id)
        # Locked or disabled while this password was being checked.
        if current is None or not _may_sign_in(current, now):
            raise SignInRefused(REFUSED, 403)
        # A sign-in that succeeded is no refusal of its client.
        await session.execute(delete(SignInRefusal).where(SignInRefusal.id == attempt))
        current.failures = 0
        current.signed_in_at = now
        # Who signed in is the operator, as in every entry of theirs; the
        # address goes where every entry keeps it (its client).
        record(
            session,
            clock,
            actor=f"console:{current.name}",
            action="operator.signed_in",
            subject=f"operator:{current.name}",
        )
    return current
