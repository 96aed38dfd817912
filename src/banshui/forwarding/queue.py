"""The queue of forwards: enqueued with their SMS, claimed, retried, given up.

A forward is ``due`` (waiting for its time), ``sending`` (claimed by a worker),
``sent`` or ``failed`` (gave up; ``last_error`` says why). Just before its
request leaves, a claimed forward is marked in flight, in a commit of its own.
A worker that dies leaves its rows ``sending``: one not yet in flight went
nowhere and is due again; one in flight may or may not have arrived, so it is
failed as interrupted and never sent again unless an operator retries it. A
receiver that answers an error, or not in time, is tried again with back-off.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.direct import Prepared, insert_rows
from banshui.core.errors import Conflict, NotFound
from banshui.forwarding.channels.registry import channel_for
from banshui.forwarding.models import Forward, ForwardChannel, ForwardRoute
from banshui.numbers.models import Number

MAX_ERROR = 500
INTERRUPTED = (
    "interrupted while sending: banshui stopped before the receiver answered, so "
    "it may or may not have arrived; not sent again (banshui forward retry does)"
)

# Built once: it runs for every batch of SMS stored.
ROUTES_OF_NUMBERS = Prepared(
    select(
        ForwardRoute.number, ForwardRoute.id, ForwardChannel.kind, Number.bound_phone
    )
    .join(ForwardChannel, ForwardChannel.id == ForwardRoute.channel_id)
    .outerjoin(Number, Number.msisdn == ForwardRoute.number)
    .where(ForwardRoute.number.in_(bindparam("numbers", expanding=True)))
    .order_by(ForwardRoute.id)
)


class ForwardStatus(StrEnum):
    DUE = "due"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts, each stretched by up to ``jitter`` at random."""

    delays: tuple[float, ...] = (5, 30, 120, 600, 3600)
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)

    @property
    def attempts(self) -> int:
        """How many sends are tried in all before giving up."""
        return len(self.delays) + 1

    def after(self, attempts_made: int) -> timedelta | None:
        """The wait before the next attempt; None when it is time to give up."""
        if attempts_made >= self.attempts:
            return None
        # Stretched, never shortened: a receiver is not hit before its time, and
        # many forwards failing together do not come back together.
        delay = self.delays[max(attempts_made, 1) - 1]
        return timedelta(seconds=delay * (1 + self.jitter * self.rng.random()))


def enqueue_forwards(
    session: Session, now: datetime, stored: Sequence[tuple[int, str]]
) -> Counter[int]:
    """In the SMS's own transaction: one forward per route of each SMS's number.

    ``stored`` holds (SMS id, number) pairs; the answer counts forwards per SMS.
    """
    numbers = sorted({number for _, number in stored})
    if not numbers:
        return Counter()

    routes: dict[str, list[int]] = defaultdict(list)
    found = ROUTES_OF_NUMBERS.fetch_all(session, {"numbers": numbers})
    for number, route_id, kind, bound_phone in found:
        # An SMS channel sends only to the bound phone: unbound, nothing to send.
        if channel_for(kind).sends_sms and bound_phone is None:
            continue
        routes[number].append(route_id)

    forwards: list[dict[str, Any]] = [
        {
            "sms_id": sms_id,
            "route_id": route_id,
            "status": ForwardStatus.DUE.value,
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        for sms_id, number in stored
        for route_id in routes[number]
    ]
    insert_rows(session, Forward, forwards)
    return Counter(forward["sms_id"] for forward in forwards)


async def claim_due(db: Database, clock: Clock, limit: int) -> list[int]:
    """Mark up to ``limit`` due forwards ``sending`` for this worker."""
    now = clock.now()
    query = (
        select(Forward.id)
        .where(Forward.status == ForwardStatus.DUE, Forward.due_at <= now)
        .order_by(Forward.due_at, Forward.id)
        .limit(limit)
    )
    if not db.is_sqlite:
        # Workers in other processes skip the rows this one holds.
        query = query.with_for_update(skip_locked=True)

    async with db.transaction() as session:
        ids = list(await session.scalars(query))
        if ids:
            await session.execute(
                update(Forward)
                .where(Forward.id.in_(ids))
                .values(
                    status=ForwardStatus.SENDING,
                    claimed_at=now,
                    in_flight_at=None,
                    attempts=Forward.attempts + 1,
                )
            )
    return ids


async def mark_in_flight(
    db: Database, clock: Clock, forward_id: int, attempt: int
) -> bool:
    """Record that this claim's request is about to leave; False if it is not ours.

    ``attempt`` is the attempts count of the claim: a claim taken back (its lease
    over) and claimed again has another, so only one worker ever sends.
    """
    async with db.transaction() as session:
        result = await session.execute(
            update(Forward)
            .where(
                Forward.id == forward_id,
                Forward.status == ForwardStatus.SENDING,
                Forward.attempts == attempt,
                Forward.in_flight_at.is_(None),
            )
            .values(in_flight_at=clock.now())
        )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def next_due_at(db: Database) -> datetime | None:
    async with db.session() as session:
        return await session.scalar(
            select(func.min(Forward.due_at)).where(Forward.status == ForwardStatus.DUE)
        )


async def mark_sent(
    db: Database, clock: Clock, forward_id: int, destination: str | None
) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Forward)
            .where(Forward.id == forward_id)
            .values(
                status=ForwardStatus.SENT,
                sent_at=clock.now(),
                destination=destination,
                last_error=None,
            )
        )


async def mark_unsent(
    db: Database,
    clock: Clock,
    forward_id: int,
    error: str,
    *,
    retry_after: timedelta | None,
    destination: str | None,
) -> ForwardStatus:
    """Due again after ``retry_after``, or failed for good when it is None."""
    values: dict[str, object] = {
        "last_error": error[:MAX_ERROR],
        "destination": destination,
    }
    if retry_after is None:
        values["status"] = ForwardStatus.FAILED
    else:
        values["status"] = ForwardStatus.DUE
        values["due_at"] = clock.now() + retry_after

    async with db.transaction() as session:
        await session.execute(
            update(Forward).where(Forward.id == forward_id).values(**values)
        )
    return ForwardStatus(str(values["status"]))


@dataclass(frozen=True, slots=True)
class Interrupted:
    """A forward left in flight by a dead worker: failed now, its outcome unknown."""

    forward_id: int
    sms_id: int
    channel: str
    attempts: int


async def recover_stale(
    db: Database, clock: Clock, lease: timedelta | None
) -> list[Interrupted]:
    """Rows a dead worker left ``sending`` (all, or claimed over ``lease`` ago).

    One it had not put on the wire is due now; one in flight is failed as
    interrupted, and returned.
    """
    now = clock.now()
    stale = Forward.status == ForwardStatus.SENDING
    if lease is not None:
        stale = stale & (Forward.claimed_at <= now - lease)

    async with db.transaction() as session:
        await session.execute(
            update(Forward)
            .where(stale, Forward.in_flight_at.is_(None))
            .values(status=ForwardStatus.DUE, due_at=now)
        )
        # Sending it again could make the receiver show it twice: an operator
        # who knows it did not arrive retries it.
        failed = list(
            await session.execute(
                update(Forward)
                .where(stale, Forward.in_flight_at.is_not(None))
                .values(status=ForwardStatus.FAILED, last_error=INTERRUPTED)
                .returning(
                    Forward.id, Forward.sms_id, Forward.route_id, Forward.attempts
                )
            )
        )
        channels = await _channel_names(session, {row.route_id for row in failed})
    return [
        Interrupted(row.id, row.sms_id, channels.get(row.route_id, "?"), row.attempts)
        for row in failed
    ]


async def _channel_names(session: AsyncSession, route_ids: set[int]) -> dict[int, str]:
    if not route_ids:
        return {}
    rows = await session.execute(
        select(ForwardRoute.id, ForwardChannel.name)
        .join(ForwardChannel, ForwardChannel.id == ForwardRoute.channel_id)
        .where(ForwardRoute.id.in_(route_ids))
    )
    return {route_id: name for route_id, name in rows}


async def retry_forward(db: Database, clock: Clock, forward_id: int) -> Forward:
    """A failed forward due again now, with its attempts counted afresh."""
    async with db.transaction() as session:
        forward = await session.get(Forward, forward_id)
        if forward is None:
            raise NotFound(f"no forward {forward_id}", field="id")
        if forward.status != ForwardStatus.FAILED:
            raise Conflict(f"forward {forward_id} is {forward.status}, not failed")
        forward.status = ForwardStatus.DUE
        forward.due_at = clock.now()
        forward.attempts = 0
    return forward
