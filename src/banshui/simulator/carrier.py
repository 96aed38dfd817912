"""The carrier: hands each SMS the bureau sends to that phone's gateway over HTTP.

Delivery waits `delivery_delay_ms` of real time (an SMS takes a moment to arrive,
whatever the bureau's clock says), keeps the order of SMS per phone, and retries
a refused or failed post with back-off before recording the SMS as failed.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

import httpx

from banshui.simulator import smsforwarder
from banshui.simulator.clock import wall_now
from banshui.simulator.config import SimConfig
from banshui.simulator.phones import mask
from banshui.simulator.state import Delivery, Sms

logger = logging.getLogger(__name__)


class Carrier:
    """One shared HTTP client and the deliveries still on their way."""

    def __init__(
        self, config: SimConfig, wall: Callable[[], datetime] = wall_now
    ) -> None:
        self._config = config
        self._wall = wall
        self._client: httpx.AsyncClient | None = None
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def hand_over(
        self, sms: Sms, delivery: Delivery | None
    ) -> asyncio.Task[None] | None:
        """Start delivering an SMS; without a delivery it stays in the outbox only."""
        if delivery is None:
            return None

        sms.delivery = "pending"
        loop = asyncio.get_running_loop()
        due = loop.time() + self._config.delivery_delay_ms / 1000
        previous = self._tails.get(sms.phone)
        task = loop.create_task(self._deliver_in_turn(previous, due, sms, delivery))

        self._tails[sms.phone] = task
        self._pending.add(task)
        task.add_done_callback(partial(self._forget, sms.phone))
        return task

    async def drain(self) -> None:
        """Wait until every SMS handed over so far is delivered or failed."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def cancel_pending(self) -> None:
        tasks = list(self._pending)
        for task in tasks:
            task.cancel()

        await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        await self.cancel_pending()

        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _forget(self, phone: str, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if self._tails.get(phone) is task:
            del self._tails[phone]

    async def _deliver_in_turn(
        self,
        previous: asyncio.Task[None] | None,
        due: float,
        sms: Sms,
        delivery: Delivery,
    ) -> None:
        # An SMS to a phone never overtakes the one sent to it before.
        if previous is not None:
            await asyncio.wait([previous])

        delay = due - asyncio.get_running_loop().time()
        await asyncio.sleep(max(0.0, delay))
        await self._deliver(sms, delivery)

    async def _deliver(self, sms: Sms, delivery: Delivery) -> None:
        # The phone receives the SMS once; its app re-sends the very same request.
        fields = smsforwarder.form(sms, delivery, self._wall())
        attempts = self._config.delivery_attempts
        failure: str | None = None

        for attempt in range(1, attempts + 1):
            sms.attempts = attempt
            failure = await self._post(delivery.url, fields)
            if failure is None:
                sms.delivery = "delivered"
                return

            if attempt < attempts:
                await asyncio.sleep(self._backoff(attempt))

        sms.delivery = "failed"
        logger.warning(
            "SMS %s to %s not delivered to %s after %s attempts, last: %s",
            sms.sms_id,
            mask(sms.phone),
            delivery.url,
            attempts,
            failure,
        )

    def _backoff(self, attempt: int) -> float:
        doublings: int = 2 ** (attempt - 1)
        return self._config.delivery_backoff_ms * doublings / 1000

    async def _post(self, url: str, fields: dict[str, str]) -> str | None:
        """Post once; why it failed, or None when the gateway took it."""
        try:
            response = await self._http().post(url, data=fields)
        except httpx.HTTPError as error:
            return type(error).__name__

        return None if response.is_success else f"HTTP {response.status_code}"

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, inside the running loop, and closed by the lifespan.
        if self._client is None:
            timeout = self._config.delivery_timeout_seconds
            self._client = httpx.AsyncClient(timeout=timeout)

        return self._client
