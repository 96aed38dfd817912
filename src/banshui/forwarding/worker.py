"""The forwarding worker: a background task of the app that sends due forwards.

It wakes at once when this process enqueues a forward (``wake``), else at the
next due time, and at the latest every ``idle_seconds`` (forwards enqueued by
other processes on PostgreSQL). All times come from the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import quote

import httpx
from sqlalchemy import select

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.vault import Vault, VaultError
from banshui.forwarding.channels.base import (
    Outgoing,
    PermanentFailure,
    SendFailed,
    TransientFailure,
)
from banshui.forwarding.channels.registry import channel_for
from banshui.forwarding.models import Forward, ForwardChannel, ForwardRoute
from banshui.forwarding.queue import (
    Backoff,
    ForwardStatus,
    claim_due,
    mark_in_flight,
    mark_sent,
    mark_unsent,
    next_due_at,
    recover_stale,
)
from banshui.forwarding.redaction import RobotUrlRedaction
from banshui.forwarding.setup import Unsealed, unseal
from banshui.metrics import FORWARDS_FAILED, FORWARDS_SENT
from banshui.numbers.models import Number
from banshui.numbers.phones import mask
from banshui.sms.models import InboundSms

logger = logging.getLogger(__name__)

# Longer than any send can take (the HTTP time-out): a row ``sending`` for
# longer belongs to a worker that died.
SENDING_LEASE = timedelta(minutes=5)
HTTP_TIMEOUT_SECONDS = 15.0
IDLE_SECONDS = 10.0
BATCH = 10
MASK = "****"


@dataclass(frozen=True, slots=True)
class Job:
    forward_id: int
    attempts: int
    channel: ForwardChannel
    message: Outgoing


class Forwarder:
    """Claims due forwards, sends them, and marks them sent, due again or failed."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        vault: Vault,
        *,
        backoff: Backoff | None = None,
        batch: int = BATCH,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._db = db
        self._clock = clock
        self._vault = vault
        self._backoff = backoff or Backoff()
        self._batch = batch
        self._idle = idle_seconds
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._redaction = RobotUrlRedaction()

    async def start(self) -> None:
        """Take back what a crashed process left mid-send, then work."""
        # SQLite serves one process: whatever is ``sending`` now was left by a
        # crash. On PostgreSQL other workers may be mid-send: wait for the lease.
        await self._recover(None if self._db.is_sqlite else SENDING_LEASE)
        self._http = httpx.AsyncClient(
            timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False
        )
        logging.getLogger("httpx").addFilter(self._redaction)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Cancel mid-send if need be: what is cut short fails at the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
        logging.getLogger("httpx").removeFilter(self._redaction)

    def wake(self) -> None:
        """Look for due forwards now (called after an SMS with forwards commits)."""
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                await self._drain()
                wait = await self._seconds_to_next()
            except Exception:
                logger.exception("forwarding hit an error; trying again shortly")
                wait = self._idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def _drain(self) -> None:
        await self._recover(SENDING_LEASE)
        while ids := await claim_due(self._db, self._clock, self._batch):
            await asyncio.gather(*(self._deliver(forward_id) for forward_id in ids))

    async def _recover(self, lease: timedelta | None) -> None:
        for forward in await recover_stale(self._db, self._clock, lease):
            FORWARDS_FAILED.labels(channel=forward.channel).inc()
            logger.warning(
                "forward %s of SMS %s through %s was on the wire when its worker "
                "stopped (attempt %s): failed, as it may or may not have arrived",
                forward.forward_id,
                forward.sms_id,
                forward.channel,
                forward.attempts,
            )

    async def _seconds_to_next(self) -> float:
        due = await next_due_at(self._db)
        if due is None:
            return self._idle
        left = (due - self._clock.now()).total_seconds()
        return min(max(left, 0.0), self._idle)

    async def _deliver(self, forward_id: int) -> None:
        job = await self._job(forward_id)
        if job is None:
            return  # its route was removed meanwhile

        try:
            opened = unseal(self._vault, job.channel)
        except VaultError:
            unopened = PermanentFailure(
                "the channel's secret does not open with this key"
            )
            await self._unsent(job, unopened, ())
            return

        # Committed before the request leaves: from here on a crash leaves the
        # forward failed as interrupted, never to be sent a second time.
        if not await mark_in_flight(self._db, self._clock, forward_id, job.attempts):
            return  # claimed too long ago: taken back, now another worker's

        failure = await self._attempt(job, opened)
        if failure is not None:
            await self._unsent(job, failure, opened.hidden)
            return

        await mark_sent(self._db, self._clock, forward_id, job.message.to)
        FORWARDS_SENT.labels(channel=job.channel.name).inc()

    async def _attempt(self, job: Job, opened: Unsealed) -> SendFailed | None:
        """Send once; how it failed, if it did."""
        assert self._http is not None, "the forwarder is not started"
        channel = channel_for(job.channel.kind)
        for key in channel.sealed_keys:
            self._redaction.hide(str(opened.config[key]))
        message = replace(job.message, sent_at=self._clock.now())
        try:
            await channel.send(message, opened.config, opened.secret, self._http)
        except SendFailed as failure:
            return failure
        except Exception as error:
            # A bug in a channel must not stop the queue: retried, then given up.
            logger.exception(
                "forward %s: the %s channel broke", job.forward_id, job.channel.kind
            )
            return TransientFailure(f"unexpected error ({type(error).__name__})")
        return None

    async def _unsent(
        self, job: Job, failure: SendFailed, hidden: tuple[str, ...]
    ) -> None:
        error = _scrubbed(failure.message, hidden)
        retry_after = self._backoff.after(job.attempts) if failure.transient else None
        status = await mark_unsent(
            self._db,
            self._clock,
            job.forward_id,
            error,
            retry_after=retry_after,
            destination=job.message.to,
        )
        if status is not ForwardStatus.FAILED:
            return

        FORWARDS_FAILED.labels(channel=job.channel.name).inc()
        logger.warning(
            "forward %s of SMS %s to %s through %s gave up after %s attempts: %s",
            job.forward_id,
            job.message.sms_id,
            mask(job.message.number),
            job.channel.name,
            job.attempts,
            error,
        )

    async def _job(self, forward_id: int) -> Job | None:
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(
                        Forward.attempts,
                        InboundSms,
                        ForwardRoute.number,
                        ForwardChannel,
                        Number.bound_phone,
                    )
                    .join(InboundSms, InboundSms.id == Forward.sms_id)
                    .join(ForwardRoute, ForwardRoute.id == Forward.route_id)
                    .join(ForwardChannel, ForwardChannel.id == ForwardRoute.channel_id)
                    .outerjoin(Number, Number.msisdn == ForwardRoute.number)
                    .where(Forward.id == forward_id)
                )
            ).first()
        if row is None:
            return None

        attempts, sms, number, channel, bound_phone = row
        message = Outgoing(
            sms_id=sms.id,
            number=number,
            sender=sms.sender,
            text=sms.text,
            received_at=sms.received_at,
            code=sms.code,
            to=bound_phone if channel_for(channel.kind).sends_sms else None,
            sent_at=self._clock.now(),
        )
        return Job(forward_id, attempts, channel, message)


def _scrubbed(text: str, hidden: tuple[str, ...]) -> str:
    """An error as shown and logged: no secret in it, even echoed by a receiver."""
    for value in hidden:
        if len(value) >= 6:
            text = text.replace(value, MASK).replace(quote(value, safe=""), MASK)
    return text
