"""The queue of webhook deliveries: claimed, retried with back-off, given up.

A delivery is ``due`` (waiting for its time), ``sending`` (claimed by a worker),
``delivered`` or ``failed`` (gave up; ``last_error`` says why). Delivery is at
least once: a worker that dies mid-send leaves its row ``sending``, and the row
goes back to due, so a receiver may see an event twice (the same ``id``) but
never loses one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.sync.models import Delivery, Event
from banshui.sync.outbox import ring_after_commit

MAX_ERROR = 500


class DeliveryStatus(StrEnum):
    DUE = "due"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


STATUSES = tuple(status.value for status in DeliveryStatus)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    event_id: str
    kind: str
    status: str
    attempts: int
    due_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        for key in ("due_at", "delivered_at", "created_at"):
            if values[key] is not None:
                values[key] = values[key].isoformat()
        return values


async def claim_due(db: Database, clock: Clock, limit: int) -> dict[str, list[int]]:
    """Mark up to ``limit`` due deliveries ``sending``: ids by webhook, in order."""
    now = clock.now()
    query = (
        select(Delivery.id, Delivery.subscription_id)
        .where(Delivery.status == DeliveryStatus.DUE, Delivery.due_at <= now)
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if not db.is_sqlite:
        # Workers in other processes skip the rows this one holds.
        query = query.with_for_update(skip_locked=True)

    async with db.transaction() as session:
        rows = list(await session.execute(query))
        ids = [delivery_id for delivery_id, _ in rows]
        if ids:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    status=DeliveryStatus.SENDING,
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                )
            )
    claimed: dict[str, list[int]] = {}
    for delivery_id, subscription_id in sorted(rows):
        claimed.setdefault(subscription_id, []).append(delivery_id)
    return claimed


async def next_due_at(db: Database) -> datetime | None:
    async with db.session() as session:
        return await session.scalar(
            select(func.min(Delivery.due_at)).where(
                Delivery.status == DeliveryStatus.DUE
            )
        )


async def mark_delivered(
    db: Database, clock: Clock, delivery_id: int, status_code: int
) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=clock.now(),
                last_status=status_code,
                last_error=None,
            )
        )


async def mark_undelivered(
    db: Database,
    clock: Clock,
    delivery_id: int,
    error: str,
    *,
    status_code: int | None,
    retry_after: timedelta | None,
) -> DeliveryStatus:
    """Due again after ``retry_after``, or failed for good when it is None."""
    status = DeliveryStatus.FAILED if retry_after is None else DeliveryStatus.DUE
    values: dict[str, object] = {
        "status": status,
        "last_error": error[:MAX_ERROR],
        "last_status": status_code,
    }
    if retry_after is not None:
        values["due_at"] = clock.now() + retry_after

    async with db.transaction() as session:
        await session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(**values)
        )
    return status


async def release_stale(db: Database, clock: Clock, lease: timedelta | None) -> int:
    """Rows a dead worker left ``sending`` (all, or older than ``lease``): due now."""
    now = clock.now()
    stale = Delivery.status == DeliveryStatus.SENDING
    if lease is not None:
        stale = stale & (Delivery.claimed_at <= now - lease)

    async with db.transaction() as session:
        result = await session.execute(
            update(Delivery).where(stale).values(status=DeliveryStatus.DUE, due_at=now)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def deliveries_of(
    db: Database, subscription_id: str, status: str | None = None, limit: int = 100
) -> list[DeliveryView]:
    """A subscription's deliveries, the newest first."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"{status!r} is not one of {', '.join(STATUSES)}", field="status"
        )
    query = (
        select(Delivery, Event.kind)
        .join(Event, Event.id == Delivery.event_id)
        .where(Delivery.subscription_id == subscription_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Delivery.status == status)

    async with db.session() as session:
        rows = await session.execute(query)
        return [_view(delivery, kind) for delivery, kind in rows]


async def retry_delivery(
    db: Database, clock: Clock, subscription_id: str, delivery_id: int
) -> DeliveryView:
    """A failed delivery due again now, with its attempts counted afresh."""
    async with db.transaction() as session:
        delivery = await session.get(Delivery, delivery_id)
        if delivery is None or delivery.subscription_id != subscription_id:
            raise NotFound(f"no delivery {delivery_id} of this webhook")
        if delivery.status != DeliveryStatus.FAILED:
            raise Conflict(f"delivery {delivery_id} is {delivery.status}, not failed")
        delivery.status = DeliveryStatus.DUE
        delivery.due_at = clock.now()
        delivery.attempts = 0
        ring_after_commit(session)
        kind = await session.scalar(
            select(Event.kind).where(Event.id == delivery.event_id)
        )
    return _view(delivery, str(kind))


def _view(delivery: Delivery, kind: str) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        event_id=delivery.event_id,
        kind=kind,
        status=delivery.status,
        attempts=delivery.attempts,
        due_at=delivery.due_at,
        delivered_at=delivery.delivered_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
    )
