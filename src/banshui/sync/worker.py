"""The delivery worker: a background task of the app that POSTs due deliveries.

It wakes when this process commits an event with deliveries (the outbox's
doorbell), else at the next due time, and at the latest every ``idle_seconds``
(events staged by other processes on PostgreSQL). Times come from the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.vault import Vault, VaultError
from banshui.forwarding.channels.answers import expect_success, post
from banshui.forwarding.channels.base import PermanentFailure, SendFailed
from banshui.forwarding.queue import Backoff
from banshui.metrics import WEBHOOKS_DELIVERED, WEBHOOKS_FAILED
from banshui.signing import signed_headers
from banshui.sync.models import Delivery, Event, Subscription
from banshui.sync.outbox import DOORBELL
from banshui.sync.queue import (
    DeliveryStatus,
    claim_due,
    mark_delivered,
    mark_undelivered,
    next_due_at,
    release_stale,
)
from banshui.sync.subscriptions import secret_purpose

logger = logging.getLogger(__name__)

# An ERP may be down for a night: about 17 hours of retries in all.
DELAYS = (5.0, 30.0, 120.0, 600.0, 3600.0, 4 * 3600.0, 12 * 3600.0)
# Longer than any send can take: a row ``sending`` for longer was left by a
# worker that died.
SENDING_LEASE = timedelta(minutes=5)
HTTP_TIMEOUT_SECONDS = 15.0
IDLE_SECONDS = 10.0
BATCH = 10
MASK = "****"


@dataclass(frozen=True, slots=True)
class Job:
    delivery_id: int
    attempts: int
    subscription: Subscription
    event: Event


def body_of(event: Event) -> bytes:
    """``{"id", "kind", "at", "data"}``: the same bytes on every retry."""
    payload = {
        "id": event.id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "data": event.data,
    }
    return json.dumps(payload, ensure_ascii=False).encode()


class WebhookDeliverer:
    """Claims due deliveries, POSTs them signed, marks them done, due or failed."""

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
        self.backoff = backoff or Backoff(delays=DELAYS)
        self._batch = batch
        self._idle = idle_seconds
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Put back what a crashed process left mid-send, then work."""
        # SQLite serves one process: whatever is ``sending`` now was left by a
        # crash. On PostgreSQL other workers may be mid-send: wait for the lease.
        await release_stale(
            self._db, self._clock, None if self._db.is_sqlite else SENDING_LEASE
        )
        self._http = httpx.AsyncClient(
            timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False
        )
        DOORBELL.listen(self.wake)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Cancel mid-send if need be: the row stays ``sending``, sent after start."""
        DOORBELL.forget(self.wake)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    def wake(self) -> None:
        """Look for due deliveries now."""
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                await self._drain()
                wait = await self._seconds_to_next()
            except Exception:
                logger.exception("webhook delivery hit an error; trying again shortly")
                wait = self._idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def _drain(self) -> None:
        await release_stale(self._db, self._clock, SENDING_LEASE)
        while claimed := await claim_due(self._db, self._clock, self._batch):
            await asyncio.gather(*(self._in_turn(ids) for ids in claimed.values()))

    async def _in_turn(self, delivery_ids: list[int]) -> None:
        # One webhook's events go one after another, as they happened; only a
        # retry lets a later event overtake an earlier one.
        for delivery_id in delivery_ids:
            await self._deliver(delivery_id)

    async def _seconds_to_next(self) -> float:
        due = await next_due_at(self._db)
        if due is None:
            return self._idle
        left = (due - self._clock.now()).total_seconds()
        return min(max(left, 0.0), self._idle)

    async def _deliver(self, delivery_id: int) -> None:
        job = await self._job(delivery_id)
        if job is None:
            return  # its subscription was removed meanwhile

        try:
            secret = self._vault.open(
                job.subscription.secret_sealed, secret_purpose(job.subscription.id)
            )
        except VaultError:
            unopened = PermanentFailure(
                "the webhook's secret does not open with this key"
            )
            await self._undelivered(job, unopened, None, "")
            return

        status, failure = await self._attempt(job, secret)
        if failure is not None:
            await self._undelivered(job, failure, status, secret)
            return

        assert status is not None
        await mark_delivered(self._db, self._clock, delivery_id, status)
        WEBHOOKS_DELIVERED.labels(kind=job.event.kind).inc()

    async def _attempt(
        self, job: Job, secret: str
    ) -> tuple[int | None, SendFailed | None]:
        """POST once: the receiver's HTTP status, if it answered, and any failure."""
        assert self._http is not None, "the deliverer is not started"
        body = body_of(job.event)
        url = httpx.URL(job.subscription.url)
        headers = signed_headers(
            job.subscription.id,
            secret,
            "POST",
            url.raw_path.decode("ascii"),
            body,
            now=self._clock.now().timestamp(),
        )
        headers["content-type"] = "application/json"
        try:
            response = await post(self._http, url, content=body, headers=headers)
        except SendFailed as failure:
            return None, failure
        try:
            expect_success(response)
        except SendFailed as failure:
            return response.status_code, failure
        return response.status_code, None

    async def _undelivered(
        self, job: Job, failure: SendFailed, status: int | None, secret: str
    ) -> None:
        error = failure.message.replace(secret, MASK) if secret else failure.message
        retry_after = self.backoff.after(job.attempts) if failure.transient else None
        outcome = await mark_undelivered(
            self._db,
            self._clock,
            job.delivery_id,
            error,
            status_code=status,
            retry_after=retry_after,
        )
        if outcome is not DeliveryStatus.FAILED:
            return

        WEBHOOKS_FAILED.labels(kind=job.event.kind).inc()
        logger.warning(
            "webhook %s gave up on event %s (%s) after %s attempts: %s",
            job.subscription.id,
            job.event.id,
            job.event.kind,
            job.attempts,
            error,
        )

    async def _job(self, delivery_id: int) -> Job | None:
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(Delivery.attempts, Subscription, Event)
                    .join(Subscription, Subscription.id == Delivery.subscription_id)
                    .join(Event, Event.id == Delivery.event_id)
                    .where(Delivery.id == delivery_id)
                )
            ).first()
        if row is None:
            return None
        attempts, subscription, event = row
        return Job(delivery_id, attempts, subscription, event)
