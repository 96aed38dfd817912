"""Looking a number up on the query page: PIN, lockout, client window, audit.

A number's PIN admits 5 wrong tries, then the number is locked for 15 minutes
(even to the right PIN). Each client address (an IPv6 one by its /64) may be
refused 20 times in 15 minutes, whichever numbers it tries; the window is kept in
the database so a restart does not reset it. Every refusal about a number reads
the same, whether the number exists, has no PIN, is locked or the PIN is wrong.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.audit.log import record
from banshui.core.client_window import ClientWindow
from banshui.core.errors import InvalidInput
from banshui.core.locks import take_turn
from banshui.metrics import REFUSALS, count_refusal
from banshui.numbers.models import Number
from banshui.numbers.phones import normalize_mobile
from banshui.query.display import ShownSms, show
from banshui.query.models import QueryRefusal
from banshui.query.pins import MAX_LENGTH, pin_matches
from banshui.runtime import Runtime

MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
CLIENT_WINDOW = timedelta(minutes=15)
CLIENT_LIMIT = 20
WINDOW = ClientWindow(QueryRefusal, CLIENT_LIMIT, CLIENT_WINDOW)
SHOWN = 5

REFUSED = "号码或 PIN 不正确，或该号码暂时无法查询。"
TOO_MANY = "尝试次数过多，请 15 分钟后再试。"
BAD_NUMBER = "请输入 11 位手机号码。"


class QueryRefused(Exception):
    """The look-up is refused; the message is what the page says."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def look_up(
    runtime: Runtime, client: str, number: str, pin: str
) -> list[ShownSms]:
    """The number's latest SMS for whoever holds its PIN; QueryRefused otherwise."""
    msisdn = _msisdn(number)
    # Both limits are reserved before the PIN is hashed, so a burst of guesses
    # sent at once is held to them as strictly as guesses sent one by one.
    attempt = await _reserve_client(runtime, client)

    found = await _number(runtime, msisdn)
    now = runtime.clock.now()
    reserved = (
        found is not None
        and found.pin_hash is not None
        and len(pin) <= MAX_LENGTH
        and await _reserve_number(runtime, found, now)
    )
    # An unknown or locked number costs the same hashing as a known one.
    pin_hash = found.pin_hash if reserved and found is not None else None
    if not await asyncio.to_thread(pin_matches, pin_hash, pin[:MAX_LENGTH]):
        await _refuse(runtime, client, found if reserved else None, now)
        raise QueryRefused(REFUSED, 403)

    assert found is not None
    await _forget_attempt(runtime, attempt)
    return await _admit(runtime, client, found)


async def _reserve_client(runtime: Runtime, client: str) -> int:
    """Count this try against the client's window first; 429 once it is full."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        # Tries of one client at once are counted one after another.
        await take_turn(session, f"query:{WINDOW.key(client)}")
        if await WINDOW.wait(session, client, now) is not None:
            REFUSALS.labels(face="query").inc()
            count_refusal("query", "rate_limited")
            raise QueryRefused(TOO_MANY, 429)
        attempt = QueryRefusal(client=WINDOW.key(client), at=now)
        session.add(attempt)
        await session.flush()
        return attempt.id


async def _forget_attempt(runtime: Runtime, attempt: int) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(delete(QueryRefusal).where(QueryRefusal.id == attempt))


async def _reserve_number(runtime: Runtime, number: Number, now: datetime) -> bool:
    """Take one of the number's tries; False once it is locked or out of tries."""
    async with runtime.db.transaction() as session:
        taken = await session.scalar(
            update(Number)
            .where(
                Number.id == number.id,
                Number.pin_failures < MAX_FAILURES,
                (Number.pin_locked_until.is_(None)) | (Number.pin_locked_until <= now),
            )
            .values(pin_failures=Number.pin_failures + 1)
            .returning(Number.pin_failures)
        )
    return taken is not None


def _msisdn(number: str) -> str:
    try:
        return normalize_mobile(number[:32])
    except InvalidInput:
        raise QueryRefused(BAD_NUMBER, 422) from None


async def _number(runtime: Runtime, msisdn: str) -> Number | None:
    async with runtime.db.session() as session:
        found: Number | None = await session.scalar(
            select(Number).where(Number.msisdn == msisdn)
        )
    return found


def _locked(number: Number, now: datetime) -> bool:
    return number.pin_locked_until is not None and number.pin_locked_until > now


async def _refuse(
    runtime: Runtime, client: str, number: Number | None, now: datetime
) -> None:
    """The client's try is counted already; a number out of tries is locked."""
    REFUSALS.labels(face="query").inc()
    count_refusal("query", "wrong_pin")
    async with runtime.db.transaction() as session:
        await WINDOW.forget_old(session, now)
        if number is None:
            return

        await _lock(runtime, session, number, client, now)


async def _lock(
    runtime: Runtime,
    session: AsyncSession,
    number: Number,
    client: str,
    now: datetime,
) -> None:
    """Lock a number out of tries; of wrong tries ending at once, one locks it.

    Read and write are one statement: on PostgreSQL the others wait for its row
    and then find the failures cleared, so the lock is audited once.
    """
    locked = await session.scalar(
        update(Number)
        .where(Number.id == number.id, Number.pin_failures >= MAX_FAILURES)
        .values(pin_failures=0, pin_locked_until=now + LOCK)
        .returning(Number.id)
    )
    if locked is None:
        return
    record(
        session,
        runtime.clock,
        actor=client,
        action="query.locked",
        subject=f"number:{number.msisdn}",
        detail=f"{MAX_FAILURES} wrong PINs: locked until {(now + LOCK).isoformat()}",
    )


async def _admit(runtime: Runtime, client: str, number: Number) -> list[ShownSms]:
    """The latest SMS; the failures are cleared and the view audited together."""
    now = runtime.clock.now()
    latest = await runtime.inbox.latest(number.msisdn, SHOWN)
    shown = ", ".join(f"sms:{sms.id}" for sms in latest) or "no SMS yet"

    async with runtime.db.transaction() as session:
        current = await session.get(Number, number.id)
        # Locked by a parallel wrong try while this PIN was being checked.
        if current is None or _locked(current, now):
            raise QueryRefused(REFUSED, 403)
        current.pin_failures = 0
        record(
            session,
            runtime.clock,
            actor=client,
            action="code.viewed",
            subject=f"number:{number.msisdn}",
            detail=shown,
        )
    return [show(sms, now) for sms in latest]
