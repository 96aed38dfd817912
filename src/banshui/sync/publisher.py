"""``runtime.events``: what the engine publishes goes to the outbox durably."""

from __future__ import annotations

import logging
from typing import Any

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.sync.outbox import stage

logger = logging.getLogger(__name__)


class OutboxEvents:
    """Stores each event and queues it for the subscribers of its tenant."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        tenant_id = tenant_of(data)
        if tenant_id is None:
            # Kept, so it can be looked at, but no tenant is told of it.
            logger.warning("event %s carries no tenant_id; it reaches no webhook", kind)
        async with self._db.transaction() as session:
            await stage(session, self._clock, kind, data, tenant_id)


def tenant_of(data: dict[str, Any]) -> int | None:
    value = data.get("tenant_id")
    # bool is an int to Python, never a tenant to us.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
