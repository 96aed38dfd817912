"""The carrier: hands each SMS the bureau sends to that phone's gateway over HTTP.

Delivery waits `delivery_delay_ms` of real time (an SMS takes a moment to arrive,
whatever the bureau's clock says), keeps the order of SMS per phone, and retries
a refused or failed post with back-off before recording the SMS as failed. The
plan the faults drew for an SMS may lose it, delay it further, deliver it twice,
or hold it back until the next SMS to its phone has arrived.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import httpx

from banshui.simulator import gateways
from banshui.simulator.clock import wall_now
from banshui.simulator.config import SimConfig
from banshui.simulator.faults import CarrierPlan
from banshui.simulator.gateways import Arrival, Posting
from banshui.simulator.phones import mask
from banshui.simulator.state import Delivery, Sms

logger = logging.getLogger(__name__)

_PLAIN = CarrierPlan()
_MILLISECOND = timedelta(milliseconds=1)


class Carrier:
    """One shared HTTP client and the deliveries still on their way."""

    def __init__(
        self, config: SimConfig, wall: Callable[[], datetime] = wall_now
    ) -> None:
        self._config = config
        self._wall = wall
        self._client: httpx.AsyncClient | None = None
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, list[asyncio.Future[None]]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._stamps: dict[str, datetime] = {}

    def hand_over(
        self, sms: Sms, delivery: Delivery | None, plan: CarrierPlan = _PLAIN
    ) -> asyncio.Task[None] | None:
        """Start delivering an SMS; without a delivery it stays in the outbox only."""
        if delivery is None:
            return None

        if plan.lose:
            sms.delivery = "lost"
            return None

        sms.delivery = "pending"
        loop = asyncio.get_running_loop()
        delay_ms = self._config.delivery_delay_ms + plan.extra_delay_ms
        due = loop.time() + delay_ms / 1000
        if plan.hold_ms is not None:
            return self._hold(due, sms, delivery, plan.copies, plan.hold_ms)

        previous = self._tails.get(sms.phone)
        releases = self._held.pop(sms.phone, [])
        delivering = self._deliver_in_turn(
            previous, due, sms, delivery, plan.copies, releases
        )
        task = self._track(loop.create_task(delivering), sms.phone)
        self._tails[sms.phone] = task
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
        self._held.clear()

    async def aclose(self) -> None:
        await self.cancel_pending()

        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _hold(
        self, due: float, sms: Sms, delivery: Delivery, copies: int, hold_ms: int
    ) -> asyncio.Task[None]:
        # Out of the phone's line: the next SMS handed over neither waits for this
        # one nor is overtaken by it, and lets it go once it has been delivered.
        loop = asyncio.get_running_loop()
        release: asyncio.Future[None] = loop.create_future()
        self._held.setdefault(sms.phone, []).append(release)

        held = self._deliver_when_released(release, hold_ms, due, sms, delivery, copies)
        return self._track(loop.create_task(held), sms.phone)

    def _track(self, task: asyncio.Task[None], phone: str) -> asyncio.Task[None]:
        self._pending.add(task)
        task.add_done_callback(partial(self._forget, phone))
        return task

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
        copies: int,
        releases: list[asyncio.Future[None]],
    ) -> None:
        try:
            # An SMS to a phone never overtakes the one sent to it before.
            if previous is not None:
                await asyncio.wait([previous])

            await _sleep_until(due)
            await self._deliver(sms, delivery, copies)
        finally:
            for release in releases:
                if not release.done():
                    release.set_result(None)

    async def _deliver_when_released(
        self,
        release: asyncio.Future[None],
        hold_ms: int,
        due: float,
        sms: Sms,
        delivery: Delivery,
        copies: int,
    ) -> None:
        await asyncio.wait([release], timeout=hold_ms / 1000)
        waiting = self._held.get(sms.phone, [])
        if release in waiting:
            waiting.remove(release)

        await _sleep_until(due)
        await self._deliver(sms, delivery, copies)

    async def _deliver(self, sms: Sms, delivery: Delivery, copies: int) -> None:
        arrival = gateways.arrive(sms, delivery, self._stamp(sms.phone))
        delivered = await self._send(arrival, gateways.first(arrival), primary=True)
        sms.delivery = "delivered" if delivered else "failed"
        if not delivered:
            return

        for _ in range(copies - 1):
            posting = gateways.duplicate(arrival, self._stamp(sms.phone))
            await self._send(arrival, posting, primary=False)

    async def _send(self, arrival: Arrival, posting: Posting, primary: bool) -> bool:
        """Post with retries; whether the gateway took it in the end."""
        sms, url = arrival.sms, arrival.delivery.url
        attempts = self._config.delivery_attempts
        failure: str | None = None

        for attempt in range(1, attempts + 1):
            if primary:
                sms.attempts = attempt
            failure = await self._post(url, posting)
            if failure is None:
                return True

            if attempt < attempts:
                await asyncio.sleep(self._backoff(attempt))
                posting = gateways.again(arrival, posting, self._stamp(sms.phone))

        logger.warning(
            "SMS %s to %s not delivered to %s after %s attempts, last: %s",
            sms.sms_id,
            mask(sms.phone),
            url,
            attempts,
            failure,
        )
        return False

    def _stamp(self, phone: str) -> datetime:
        """The moment a phone's app sends, never the same millisecond twice.

        The app sends one request after another; a gateway that signs only
        its timestamp (SmsForwarder) would otherwise sign two SMS alike, and
        the second is rightly refused as a replay with other content.
        """
        now = self._wall()
        last = self._stamps.get(phone)
        if last is not None and now < last + _MILLISECOND:
            now = last + _MILLISECOND
        self._stamps[phone] = now
        return now

    def _backoff(self, attempt: int) -> float:
        doublings: int = 2 ** (attempt - 1)
        return self._config.delivery_backoff_ms * doublings / 1000

    async def _post(self, url: str, posting: Posting) -> str | None:
        """Post once; why it failed, or None when the gateway took it."""
        try:
            response = await self._http().post(
                url, content=posting.body, headers=posting.headers
            )
        except httpx.HTTPError as error:
            return type(error).__name__

        return None if response.is_success else f"HTTP {response.status_code}"

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, inside the running loop, and closed by the lifespan.
        if self._client is None:
            timeout = self._config.delivery_timeout_seconds
            self._client = httpx.AsyncClient(timeout=timeout)

        return self._client


async def _sleep_until(due: float) -> None:
    delay = due - asyncio.get_running_loop().time()
    await asyncio.sleep(max(0.0, delay))
