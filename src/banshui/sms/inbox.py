"""The inbox: SMS stored once and durably; codes awaited, matched and claimed once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banshui.core.batching import GroupCommit
from banshui.core.clock import Clock, shanghai_day
from banshui.core.db import Database
from banshui.core.settings import DEFAULT_BUREAU_SENDERS
from banshui.metrics import CODES_EXTRACTED
from banshui.sms.extraction import SmsKind
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.models import CodeExpectation, InboundSms, Source
from banshui.sms.notify import CodeNotifier
from banshui.sms.storing import MATCH_WINDOW, Delivery, Stored, Storing
from banshui.sms.validity import LOOK_BACK, code_valid_until

# Claims by time look no further back than this, however early ``since`` is.
CLAIM_HORIZON = LOOK_BACK


class Inbox:
    """Number side: what the login side reads codes through."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: CodeNotifier,
        skew: timedelta = timedelta(seconds=5),
        bureau_senders: Sequence[str] = DEFAULT_BUREAU_SENDERS,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._skew = skew
        self._storing = Storing(skew, tuple(bureau_senders))
        self._forward_listeners: list[Callable[[], None]] = []
        self._deliveries = GroupCommit(self._store_together)

    def on_forwards(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` after a commit that queued forwards (the worker's bell)."""
        self._forward_listeners.append(wake)

    async def store(
        self, source: Source, verified: Verified, messages: list[ReceivedSms]
    ) -> list[Stored]:
        """Commit the SMS (each once) before the caller acknowledges the gateway.

        Requests that arrive together are committed together, in one
        transaction; each returns once the transaction holding it committed.
        """
        stored = await self._deliveries.submit(Delivery(source, verified, messages))

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
        """Note that a code was asked for: from now on it counts against R3.

        A number awaits one code at a time, whichever process asks: while
        another waiter's code is awaited there, ``NumberAwaited``.
        """
        try:
            return await self._expect(number, waiter)
        except IntegrityError:
            if not await self._forget_stale_wait(number):
                raise NumberAwaited(number) from None
        try:
            return await self._expect(number, waiter)
        except IntegrityError:
            raise NumberAwaited(number) from None

    async def give_up(self, waiter: str) -> None:
        """A waiter that is gone (its process stopped) awaits nothing any more."""
        async with self._db.transaction() as session:
            await session.execute(
                update(CodeExpectation)
                .where(CodeExpectation.waiter == waiter, _awaited())
                .values(abandoned_at=self._clock.now())
            )

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

        def read(session: Session) -> tuple[int | None, ...]:
            asked = session.scalar(
                select(func.count())
                .select_from(CodeExpectation)
                .where(CodeExpectation.number == number, CodeExpectation.day == day)
            )
            unexplained = session.scalar(
                select(func.count())
                .select_from(InboundSms)
                .where(
                    InboundSms.number == number,
                    InboundSms.day == day,
                    InboundSms.kind == SmsKind.BUREAU_LOGIN,
                    InboundSms.from_bureau.is_(True),
                    InboundSms.expectation_id.is_(None),
                    InboundSms.copy_of_id.is_(None),
                )
            )
            # A code tied to a request after it gave up may be its late code or
            # a hand login's while its own was lost: counted as both, so that
            # the bureau is never asked for a 21st.
            after_giving_up = session.scalar(
                select(func.count())
                .select_from(InboundSms)
                .join(CodeExpectation, CodeExpectation.id == InboundSms.expectation_id)
                .where(
                    InboundSms.number == number,
                    InboundSms.day == day,
                    InboundSms.kind == SmsKind.BUREAU_LOGIN,
                    InboundSms.from_bureau.is_(True),
                    CodeExpectation.abandoned_at.is_not(None),
                    InboundSms.received_at >= CodeExpectation.abandoned_at,
                )
            )
            return asked, unexplained, after_giving_up

        counted = await self._db.run_read(read)
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
                    InboundSms.from_bureau.is_(True),
                    InboundSms.code.is_not(None),
                    InboundSms.claimed_by.is_(None),
                    InboundSms.expectation_id.is_(None),
                    InboundSms.copy_of_id.is_(None),
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

    async def release(self, sms: InboundSms, claimer: str) -> bool:
        """Give back a code ``claim_since`` gave ``claimer`` but that reached nobody.

        Unclaimed again, it is offered to the next claim, and waiters wake for it.
        Whether it was still the claimer's to give back.
        """
        async with self._db.transaction() as session:
            released = await session.execute(
                update(InboundSms)
                .where(InboundSms.id == sms.id, InboundSms.claimed_by == claimer[:64])
                .values(claimed_by=None, claimed_at=None)
            )
        if not getattr(released, "rowcount", 0):
            return False
        if sms.number is not None:
            self._notifier.notify(sms.number)
        return True

    async def latest(self, number: str, limit: int = 20) -> list[InboundSms]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(InboundSms)
                .where(InboundSms.number == number)
                .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
                .limit(limit)
            )
            return list(rows)

    async def _store_together(self, deliveries: list[Delivery]) -> list[list[Stored]]:
        now = self._clock.now()
        work = partial(self._storing.store, deliveries=deliveries, now=now)
        return await self._db.run_transaction(work)

    async def _claim(self, expectation_id: int) -> str | None:
        now = self._clock.now()
        claim = (
            update(InboundSms)
            .where(
                InboundSms.expectation_id == expectation_id,
                InboundSms.claimed_by.is_(None),
                InboundSms.code.is_not(None),
            )
            .values(claimed_by=f"expectation:{expectation_id}", claimed_at=now)
            .returning(InboundSms.code)
        )

        def work(session: Session) -> str | None:
            return session.execute(claim).scalars().first()

        # One trip: a woken login holds its code the sooner.
        return await self._db.run_transaction(work)

    async def _expect(self, number: str, waiter: str) -> int:
        now = self._clock.now()
        async with self._db.transaction() as session:
            expectation = CodeExpectation(
                number=number, waiter=waiter, requested_at=now, day=shanghai_day(now)
            )
            session.add(expectation)
            await session.flush()
            return expectation.id

    async def _forget_stale_wait(self, number: str) -> bool:
        """Give up a wait older than any code it could match; whether there was one.

        Its waiter stopped without a word (a crash): it blocks the number no more.
        """
        now = self._clock.now()
        async with self._db.transaction() as session:
            given_up = await session.execute(
                update(CodeExpectation)
                .where(
                    CodeExpectation.number == number,
                    _awaited(),
                    CodeExpectation.requested_at < now - MATCH_WINDOW,
                )
                .values(abandoned_at=now)
            )
        return bool(getattr(given_up, "rowcount", 0))

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


class NumberAwaited(Exception):
    """The number awaits another waiter's code: it cannot await a second one."""

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} awaits another code")
        self.number = number


def _awaited() -> ColumnElement[bool]:
    """An expectation whose code has neither come nor been given up."""
    return and_(
        CodeExpectation.fulfilled.is_(False), CodeExpectation.abandoned_at.is_(None)
    )


def code_expires_at(sms: InboundSms) -> datetime:
    """When the SMS's code stops working: its stated validity, else 5 minutes."""
    return code_valid_until(sms.text, sms.received_at)
