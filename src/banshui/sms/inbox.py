"""The inbox: SMS stored once and durably; codes awaited, matched and claimed once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.core.clock import Clock, shanghai_day
from banshui.core.db import Database
from banshui.core.upsert import insert_ignoring_conflict
from banshui.forwarding.queue import enqueue_forwards
from banshui.metrics import CODES_EXTRACTED
from banshui.numbers.models import Number
from banshui.sms.extraction import SmsKind, extract
from banshui.sms.gateways.base import (
    MalformedSms,
    ReceivedSms,
    SignatureRefused,
    Verified,
)
from banshui.sms.models import CodeExpectation, InboundSms, Source, UsedNonce
from banshui.sms.notify import CodeNotifier
from banshui.sms.parts import gather

# A code that arrives later than this after its request is not matched to it.
MATCH_WINDOW = timedelta(minutes=10)
# How long a code lives when its text does not say (the bureau's usual 5 minutes).
DEFAULT_VALIDITY = timedelta(minutes=5)
# Claims by time look no further back than this, however early ``since`` is.
CLAIM_HORIZON = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Stored:
    # None for a duplicate, and for a part kept until its long SMS is whole.
    id: int | None
    duplicate: bool
    forwards: int = 0
    # The kind of a newly stored SMS that carried a code, for the metrics.
    code_kind: str | None = None
    # The number it was stored for, once the source's SIM slots are resolved.
    number: str | None = None


class Inbox:
    """Number side: what the login side reads codes through."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: CodeNotifier,
        skew: timedelta = timedelta(seconds=5),
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._skew = skew
        self._forward_listeners: list[Callable[[], None]] = []

    def on_forwards(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` after a commit that queued forwards (the worker's bell)."""
        self._forward_listeners.append(wake)

    async def store(
        self, source: Source, verified: Verified, messages: list[ReceivedSms]
    ) -> list[Stored]:
        """Commit the SMS (each once) before the caller acknowledges the gateway."""
        async with self._db.transaction() as session:
            await self._check_replay(session, source, verified)
            stored = [await self._receive(session, source, sms) for sms in messages]

        for item in stored:
            if item.code_kind is not None:
                CODES_EXTRACTED.labels(kind=item.code_kind).inc()
        if any(s.forwards for s in stored):
            for wake in self._forward_listeners:
                wake()

        for number in {item.number for item in stored if item.number is not None}:
            self._notifier.notify(number)
        return stored

    async def expect_code(self, number: str, waiter: str) -> int:
        """Note that a code was asked for: from now on it counts against R3."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            expectation = CodeExpectation(
                number=number, waiter=waiter, requested_at=now, day=shanghai_day(now)
            )
            session.add(expectation)
            await session.flush()
            return expectation.id

    async def withdraw(self, expectation_id: int) -> None:
        """The bureau refused to send: no SMS went out, so nothing counts."""
        async with self._db.transaction() as session:
            expectation = await session.get(CodeExpectation, expectation_id)
            if expectation is not None and not expectation.fulfilled:
                await session.delete(expectation)

    async def wait_for_code(self, expectation_id: int, seconds: float) -> str | None:
        """The expected code, claimed for good; None (and abandoned) on time-out."""
        number = await self._number_of(expectation_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async with self._notifier.listening(number) as arrived:
            try:
                while True:
                    arrived.clear()
                    code = await self._claim(expectation_id)
                    if code is not None:
                        return code

                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        await self._abandon(expectation_id)
                        return None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(arrived.wait(), remaining)
            except asyncio.CancelledError:
                # A waiter stopped from outside gave up too: its code, if it
                # comes, goes to nobody.
                await asyncio.shield(self._abandon(expectation_id))
                raise

    async def spent_today(self, number: str) -> int:
        """Bureau codes of this number today: asked for, or unexplained (R3)."""
        day = shanghai_day(self._clock.now())
        async with self._db.session() as session:
            asked = await session.scalar(
                select(func.count())
                .select_from(CodeExpectation)
                .where(CodeExpectation.number == number, CodeExpectation.day == day)
            )
            unexplained = await session.scalar(
                select(func.count())
                .select_from(InboundSms)
                .where(
                    InboundSms.number == number,
                    InboundSms.day == day,
                    InboundSms.kind == SmsKind.BUREAU_LOGIN,
                    InboundSms.expectation_id.is_(None),
                )
            )
            # A code tied to a request after it gave up may be its late code or
            # a hand login's while its own was lost: counted as both, so that
            # the bureau is never asked for a 21st.
            after_giving_up = await session.scalar(
                select(func.count())
                .select_from(InboundSms)
                .join(CodeExpectation, CodeExpectation.id == InboundSms.expectation_id)
                .where(
                    InboundSms.number == number,
                    InboundSms.day == day,
                    InboundSms.kind == SmsKind.BUREAU_LOGIN,
                    CodeExpectation.abandoned_at.is_not(None),
                    InboundSms.received_at >= CodeExpectation.abandoned_at,
                )
            )
        counted = (asked, unexplained, after_giving_up)
        return sum(int(count or 0) for count in counted)

    async def claim_since(
        self, number: str, since: datetime, claimer: str
    ) -> InboundSms | None:
        """The oldest unclaimed, still valid bureau code since a time, claimed for good.

        Codes tied to a login of this banshui (or to one that gave up) are not
        offered: they belong to that login or to nobody.
        """
        now = self._clock.now()
        earliest = max(since - self._skew, now - CLAIM_HORIZON)
        async with self._db.transaction() as session:
            candidates = await session.scalars(
                select(InboundSms)
                .where(
                    InboundSms.number == number,
                    InboundSms.kind == SmsKind.BUREAU_LOGIN,
                    InboundSms.code.is_not(None),
                    InboundSms.claimed_by.is_(None),
                    InboundSms.expectation_id.is_(None),
                    InboundSms.received_at >= earliest,
                )
                .order_by(InboundSms.received_at, InboundSms.id)
                .with_for_update(skip_locked=True)
            )
            for sms in candidates:
                if code_expires_at(sms) > now:
                    sms.claimed_by = claimer[:64]
                    sms.claimed_at = now
                    return sms
        return None

    async def latest(self, number: str, limit: int = 20) -> list[InboundSms]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(InboundSms)
                .where(InboundSms.number == number)
                .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
                .limit(limit)
            )
            return list(rows)

    async def _check_replay(
        self, session: AsyncSession, source: Source, verified: Verified
    ) -> None:
        if verified.nonce is None:
            return

        values = {
            "source_id": source.id,
            "nonce": verified.nonce,
            "content_hash": verified.content_hash,
            "seen_at": self._clock.now(),
        }
        if await insert_ignoring_conflict(session, UsedNonce, values) is not None:
            return

        if verified.single_use:
            raise SignatureRefused("a used nonce was sent again")
        seen = await session.scalar(
            select(UsedNonce.content_hash).where(
                UsedNonce.source_id == source.id, UsedNonce.nonce == verified.nonce
            )
        )
        # The same signature over the same content is the gateway retrying.
        if seen != verified.content_hash:
            raise SignatureRefused("a used signature was sent again with other content")

    async def _receive(
        self, session: AsyncSession, source: Source, sms: ReceivedSms
    ) -> Stored:
        """Store a whole SMS; keep a part until its long SMS can be stored whole."""
        if sms.part is None:
            return await self._store_one(session, source, sms)

        gathered = await gather(session, source.id, sms, self._clock.now())
        if gathered.joined is None:
            return Stored(id=None, duplicate=gathered.duplicate)
        return await self._store_one(session, source, gathered.joined)

    async def _store_one(
        self, session: AsyncSession, source: Source, sms: ReceivedSms
    ) -> Stored:
        now = self._clock.now()
        number = await _confined_number(session, source, sms)
        extraction = extract(sms.text)
        values = {
            "source_id": source.id,
            "dedupe_key": _dedupe_key(source.id, sms.identity),
            "number": number,
            "sender": sms.sender[:100],
            "text": sms.text,
            "gateway_time": sms.gateway_time,
            "received_at": now,
            "day": shanghai_day(now),
            "code": extraction.code,
            "kind": extraction.kind.value,
        }
        new_id = await insert_ignoring_conflict(session, InboundSms, values)
        if new_id is None:
            return Stored(id=None, duplicate=True)

        if extraction.kind is SmsKind.BUREAU_LOGIN and number is not None:
            await self._match(session, new_id, number, now)
        # In this transaction: an SMS acknowledged is an SMS that will be forwarded.
        forwards = 0
        if number is not None:
            forwards = await enqueue_forwards(session, self._clock, new_id, number)
        code_kind = extraction.kind.value if extraction.code else None
        return Stored(
            id=new_id,
            duplicate=False,
            forwards=forwards,
            code_kind=code_kind,
            number=number,
        )

    async def _match(
        self, session: AsyncSession, sms_id: int, number: str, received_at: datetime
    ) -> None:
        """Tie a bureau code to the oldest request still waiting for one.

        A request that gave up takes a code only when none still waits: its late
        code must not be handed on, but neither may it take a fresh request's.
        (The engine asks for no new code on a number while a late one may come.)
        """
        expectation = await session.scalar(
            select(CodeExpectation)
            .where(
                CodeExpectation.number == number,
                CodeExpectation.fulfilled.is_(False),
                CodeExpectation.requested_at <= received_at + self._skew,
                CodeExpectation.requested_at >= received_at - MATCH_WINDOW,
            )
            .order_by(
                CodeExpectation.abandoned_at.is_not(None),
                CodeExpectation.requested_at,
                CodeExpectation.id,
            )
            .limit(1)
            .with_for_update()
        )
        if expectation is None:
            return  # a person logging in by hand: it still counts (spent_today)

        expectation.fulfilled = True
        await session.execute(
            update(InboundSms)
            .where(InboundSms.id == sms_id)
            .values(expectation_id=expectation.id)
        )

    async def _claim(self, expectation_id: int) -> str | None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            claimed = await session.execute(
                update(InboundSms)
                .where(
                    InboundSms.expectation_id == expectation_id,
                    InboundSms.claimed_by.is_(None),
                    InboundSms.code.is_not(None),
                )
                .values(claimed_by=f"expectation:{expectation_id}", claimed_at=now)
                .returning(InboundSms.code)
            )
            return claimed.scalars().first()

    async def _abandon(self, expectation_id: int) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(CodeExpectation)
                .where(CodeExpectation.id == expectation_id)
                .values(abandoned_at=self._clock.now())
            )

    async def _number_of(self, expectation_id: int) -> str:
        async with self._db.session() as session:
            number = await session.scalar(
                select(CodeExpectation.number).where(
                    CodeExpectation.id == expectation_id
                )
            )
        if number is None:
            raise LookupError(f"no code expectation {expectation_id}")
        return number


def code_expires_at(sms: InboundSms) -> datetime:
    """When the SMS's code stops working: its stated validity, else 5 minutes."""
    minutes = extract(sms.text).validity_minutes
    lifetime = timedelta(minutes=minutes) if minutes else DEFAULT_VALIDITY
    return sms.received_at + lifetime


async def _confined_number(
    session: AsyncSession, source: Source, sms: ReceivedSms
) -> str | None:
    """The number an SMS is for; a source may write only for its own numbers."""
    number = sms.number or _slot_number(source, sms.sim_slot)
    declared = {str(value) for value in source.sim_slots.values()}
    if source.number is not None:
        declared.add(source.number)
    if number is None or (declared and number in declared):
        return number
    if declared:
        raise MalformedSms(f"{number} is not a number of this source", field="number")

    if source.customer_id is not None:
        owner = await session.scalar(
            select(Number.customer_id).where(Number.msisdn == number)
        )
        if owner != source.customer_id:
            raise MalformedSms(
                f"{number} is not a number of this source's customer", field="number"
            )
    return number


def _slot_number(source: Source, slot: str | None) -> str | None:
    if slot is not None and slot in source.sim_slots:
        return str(source.sim_slots[slot])
    return source.number


def _dedupe_key(source_id: int, identity: str) -> str:
    return hashlib.sha256(f"{source_id}\n{identity}".encode()).hexdigest()
