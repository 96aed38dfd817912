"""banshui on a real socket with a ManualClock, an ERP's receiver, and a tenant.

Back-off is crossed by moving the clock and ringing the worker, never by
sleeping; waiting is only for the worker and the receiver to do their part.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from banshui.accounts.tenants import add_tenant
from banshui.core.clock import ManualClock
from banshui.sync.worker import WebhookDeliverer
from conftest import Stack, running_stack
from sync.receiver import Receiver, receiving

# 10:00 in Asia/Shanghai.
START = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
_TENANTS = itertools.count(1)


@dataclass
class Caller:
    """A business system of one tenant: its id and the API with its key."""

    tenant_id: int
    http: httpx.AsyncClient


@dataclass
class Sync:
    """The stack, its clock and the receiver its webhooks point at."""

    stack: Stack
    clock: ManualClock
    receiver: Receiver
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def worker(self) -> WebhookDeliverer:
        return cast(WebhookDeliverer, self.stack.runtime.extras["webhooks"])

    async def tenant(self, name: str | None = None) -> Caller:
        """A new tenant with a client holding its key (closed with the stack)."""
        runtime = self.stack.runtime
        made = await add_tenant(
            runtime.db, runtime.clock, name or f"示例集团-{next(_TENANTS)}"
        )
        client = httpx.AsyncClient(
            base_url=self.stack.url,
            headers={"Authorization": f"Bearer {made.api_key}"},
            timeout=30,
        )
        self._clients.append(client)
        return Caller(made.tenant.id, client)

    async def subscribe(
        self, caller: Caller, events: list[str], **extra: Any
    ) -> dict[str, Any]:
        """A webhook to the receiver; the receiver keeps the secret shown once."""
        answer = await caller.http.post(
            "/api/v1/webhooks",
            json={"url": self.receiver.url, "events": events, **extra},
        )
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()
        self.receiver.secrets[made["id"]] = made["secret"]
        return made

    async def deliveries(self, caller: Caller, webhook_id: str) -> list[dict[str, Any]]:
        answer = await caller.http.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["deliveries"]
        return found

    async def until(
        self,
        caller: Caller,
        webhook_id: str,
        status: str,
        attempts: int | None = None,
    ) -> list[dict[str, Any]]:
        """The webhook's deliveries, once all have this status (and attempts)."""

        async def reached() -> bool:
            found = await self.deliveries(caller, webhook_id)
            return bool(found) and all(
                d["status"] == status and attempts in (None, d["attempts"])
                for d in found
            )

        await eventually(reached)
        return await self.deliveries(caller, webhook_id)

    async def advance(self, seconds: float) -> None:
        """Move time on and ring the worker, as a due time passing would."""
        self.clock.advance(seconds)
        self.worker.wake()

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    """Wait (in real time, for other tasks) until ``check`` holds."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the database has no event
            await asyncio.sleep(0.01)


@asynccontextmanager
async def sync_stack(
    folder: Path, clock: ManualClock, database_url: str, receiver: Receiver
) -> AsyncIterator[Sync]:
    """banshui on that database, without the simulator."""
    async with running_stack(
        folder, clock=clock, database_url=database_url, simulator="off"
    ) as stack:
        running = Sync(stack, clock, receiver)
        try:
            yield running
        finally:
            await running.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def receiver(clock: ManualClock) -> AsyncIterator[Receiver]:
    async with receiving(clock.now) as running:
        yield running


@pytest.fixture
async def sync(
    tmp_path: Path, clock: ManualClock, database_url: str, receiver: Receiver
) -> AsyncIterator[Sync]:
    async with sync_stack(tmp_path, clock, database_url, receiver) as running:
        yield running
