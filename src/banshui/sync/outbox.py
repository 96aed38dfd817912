"""The outbox: an event and its deliveries are written in the caller's transaction.

So an account change and its ``account.*`` event commit together or not at all,
and a webhook is never told of a change that was rolled back. Once the
transaction commits, this process's delivery workers are woken.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banshui.core.clock import Clock
from banshui.sync.kinds import matches
from banshui.sync.models import Delivery, Event, Subscription

DUE = "due"
_RINGS_ON_COMMIT = "banshui.sync.rings_on_commit"


class Doorbell:
    """Wakes the delivery workers of this process; others poll the database."""

    def __init__(self) -> None:
        self._workers: dict[Callable[[], None], asyncio.AbstractEventLoop] = {}

    def listen(self, wake: Callable[[], None]) -> None:
        self._workers[wake] = asyncio.get_running_loop()

    def forget(self, wake: Callable[[], None]) -> None:
        self._workers.pop(wake, None)

    def ring(self) -> None:
        # A commit may happen on another loop (a CLI command, a test's own).
        for wake, loop in list(self._workers.items()):
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake)


DOORBELL = Doorbell()


async def stage(
    session: AsyncSession,
    clock: Clock,
    kind: str,
    data: dict[str, Any],
    tenant_id: int | None,
) -> Event:
    """Store the event, and one due delivery per subscription of its tenant."""
    now = clock.now()
    stored = Event(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        kind=kind,
        data=_plain(data),
        at=now,
    )
    session.add(stored)
    await session.flush()

    for subscription_id in await _subscribers(session, tenant_id, kind):
        session.add(
            Delivery(
                event_id=stored.id,
                subscription_id=subscription_id,
                status=DUE,
                attempts=0,
                due_at=now,
                created_at=now,
            )
        )
    ring_after_commit(session)
    return stored


async def _subscribers(
    session: AsyncSession, tenant_id: int | None, kind: str
) -> list[str]:
    if tenant_id is None:
        return []
    rows = await session.execute(
        select(Subscription.id, Subscription.events)
        .where(Subscription.tenant_id == tenant_id)
        .order_by(Subscription.created_at, Subscription.id)
    )
    return [id_ for id_, patterns in rows if matches(patterns, kind)]


def ring_after_commit(session: AsyncSession) -> None:
    """Wake this process's workers once the session's transaction commits."""
    sync_session = session.sync_session
    if sync_session.info.get(_RINGS_ON_COMMIT):
        return
    sync_session.info[_RINGS_ON_COMMIT] = True
    # After a rollback the listener stays: the session's next commit rings.
    event.listen(sync_session, "after_commit", _rang, once=True)


def _rang(sync_session: Session) -> None:
    sync_session.info.pop(_RINGS_ON_COMMIT, None)
    DOORBELL.ring()


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """The data as JSON holds it: times as ISO 8601, anything else as text."""
    plain: dict[str, Any] = json.loads(json.dumps(data, default=_as_text))
    return plain


def _as_text(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
