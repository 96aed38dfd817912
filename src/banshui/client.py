"""A small client of banshui's login API, for the CLI and the demo."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

FINAL = {"succeeded", "released", "expired", "failed"}


class ApiError(Exception):
    """An error answer of the API, in its one shape."""

    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = str(error.get("code", "error"))
        self.field = error.get("field")
        super().__init__(str(error.get("message", f"HTTP {status}")))


# The server closes a connection idle for 5 s (uvicorn's default); one idle
# nearly that long is let go first, or a request may go out as it closes.
IDLE_CONNECTION_SECONDS = 2.0


class BanshuiClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            limits=httpx.Limits(keepalive_expiry=IDLE_CONNECTION_SECONDS),
        )

    async def __aenter__(self) -> BanshuiClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.aclose()

    async def ask_login(
        self, tax_id: str, business: str, account_id: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"tax_id": tax_id, "business": business}
        if account_id is not None:
            body["account_id"] = account_id
        return await self._json("POST", "/api/v1/logins", json=body)

    async def login(self, login_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/logins/{login_id}")

    async def follow(self, login_id: str) -> AsyncIterator[dict[str, Any]]:
        """The login object after each change, until it succeeds or ends."""
        path = f"/api/v1/logins/{login_id}/events"
        async with self._http.stream("GET", path, timeout=None) as response:
            if response.status_code != 200:
                await response.aread()
                raise ApiError(response.status_code, response.json())
            async for data in _sse_data(response):
                yield data
                if data["status"] in FINAL:
                    return

    async def session(self, login_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/logins/{login_id}/session")

    async def release(self, login_id: str) -> dict[str, Any]:
        return await self._json("POST", f"/api/v1/logins/{login_id}/release")

    async def type_code(self, login_id: str, code: str) -> dict[str, Any]:
        """A code a person read off their phone, for a login waiting for it."""
        path = f"/api/v1/logins/{login_id}/code"
        return await self._json("POST", path, json={"code": code})

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._http.request(method, path, **kwargs)
        body = response.json()
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        answer: dict[str, Any] = body
        return answer


async def _sse_data(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield json.loads("\n".join(data))
            data = []
