"""The login side's way to codes of numbers hosted at another provider.

``ProviderClient`` speaks the provider API (docs/provider-api.md), signing every
request with the appKey/appSecret the provider issued. ``RemoteCodes`` wraps it in
the wait interface the engine reads codes through (``expect_code``,
``wait_for_code``, ``withdraw``, ``spent_today``), as ``Inbox`` does for numbers
hosted here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import func, select

from banshui.core.clock import Clock, SystemClock, shanghai_day
from banshui.core.db import Database
from banshui.numbers.phones import mask
from banshui.provider.models import RemoteCodeRequest
from banshui.signing import signed_headers

logger = logging.getLogger(__name__)

PREFIX = "/api/v1/provider"
MAX_WAIT_SECONDS = 60.0
# Beyond the long poll itself, how long an answer may take to come back.
ANSWER_SECONDS = 10.0


class ProviderError(Exception):
    """The provider refused or failed a request; its error shape, as given."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ClaimedCode:
    code: str
    sms_id: int
    received_at: datetime


class ProviderClient:
    """A signed client of one provider's API."""

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key = app_key
        self._secret = app_secret
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=ANSWER_SECONDS,
            transport=transport,
        )

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def claim(
        self, number: str, after: datetime, wait_seconds: float = 0
    ) -> ClaimedCode | None:
        """The first unclaimed code since ``after``, for good; None when none came."""
        wait = min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
        body = {"after": after.isoformat(), "wait_seconds": wait}
        response = await self._send(
            "POST", f"{PREFIX}/numbers/{number}/claims", body, ANSWER_SECONDS + wait
        )
        if response.status_code == 200:
            found = response.json()
            return ClaimedCode(
                code=str(found["code"]),
                sms_id=int(found["sms_id"]),
                received_at=datetime.fromisoformat(found["received_at"]),
            )

        error = _error_of(response)
        if error.code == "no_code":
            return None
        raise error

    async def sms(self, number: str, limit: int = 20) -> list[dict[str, Any]]:
        """The number's latest SMS at the provider, newest first."""
        path = f"{PREFIX}/numbers/{number}/sms?limit={limit}"
        response = await self._send("GET", path, None, ANSWER_SECONDS)
        if response.status_code != 200:
            raise _error_of(response)
        listed: list[dict[str, Any]] = response.json()["sms"]
        return listed

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, seconds: float
    ) -> httpx.Response:
        content = b"" if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if body is not None else {}
        request = self._http.build_request(
            method, path, content=content, headers=headers, timeout=seconds
        )
        # Signed over the path as it goes on the wire, after any base URL prefix.
        sent_path = request.url.raw_path.decode("ascii")
        request.headers.update(
            signed_headers(self._key, self._secret, method, sent_path, content)
        )
        return await self._http.send(request)


@dataclass(frozen=True, slots=True)
class _Asked:
    number: str
    at: datetime


class RemoteCodes:
    """The engine's wait interface, for numbers whose SMS arrive at a provider."""

    def __init__(
        self,
        client: ProviderClient,
        db: Database,
        clock: Clock | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self._client = client
        self._db = db
        self._clock = clock or SystemClock()
        self._retry_seconds = retry_seconds
        # Only a wait of this process can take up an expectation: after a
        # restart its login starts again and asks anew.
        self._asked: dict[int, _Asked] = {}

    async def expect_code(self, number: str, waiter: str) -> int:
        """Note the time a code was asked for: only codes after it are claimed."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            asked = RemoteCodeRequest(
                number=number,
                waiter=waiter[:64],
                requested_at=now,
                day=shanghai_day(now),
            )
            session.add(asked)
            await session.flush()
            expectation_id = asked.id
        self._asked[expectation_id] = _Asked(number=number, at=now)
        return expectation_id

    async def withdraw(self, expectation_id: int) -> None:
        """The bureau refused to send: nothing to claim, nothing spent."""
        self._asked.pop(expectation_id, None)
        async with self._db.transaction() as session:
            asked = await session.get(RemoteCodeRequest, expectation_id)
            if asked is not None:
                await session.delete(asked)

    async def wait_for_code(self, expectation_id: int, seconds: float) -> str | None:
        """The code, claimed at the provider for good; None on time-out."""
        asked = self._asked.pop(expectation_id, None)
        if asked is None:
            raise LookupError(f"no code expectation {expectation_id}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        while (remaining := deadline - loop.time()) > 0:
            try:
                claimed = await self._client.claim(asked.number, asked.at, remaining)
            except (httpx.TransportError, ProviderError) as error:
                if isinstance(error, ProviderError) and error.status < 500:
                    raise
                logger.warning(
                    "provider unreachable for %s: %s", mask(asked.number), error
                )
                await asyncio.sleep(min(self._retry_seconds, max(remaining, 0)))
                continue
            if claimed is not None:
                return claimed.code
        return None

    async def spent_today(self, number: str) -> int:
        """Codes banshui asked for on this number today (Asia/Shanghai day).

        The remote provider's own count is unknown here (hand logins, other
        platforms), so this is a lower bound and the bureau's refusal of a 21st
        code remains the last word.
        """
        day = shanghai_day(self._clock.now())
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(RemoteCodeRequest)
                .where(RemoteCodeRequest.number == number, RemoteCodeRequest.day == day)
            )
        return int(count or 0)


def _error_of(response: httpx.Response) -> ProviderError:
    try:
        error = response.json()["error"]
        return ProviderError(
            response.status_code, str(error["code"]), str(error["message"])
        )
    except (ValueError, KeyError, TypeError):
        return ProviderError(
            response.status_code,
            "error",
            f"the provider answered {response.status_code}",
        )
