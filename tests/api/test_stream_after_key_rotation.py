"""A login's event stream ends once its tenant's API key is replaced: a stream
opened with the old key outlives it by a keep-alive at most."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from banshui.accounts.tenants import rotate_key
from banshui.api import logins
from banshui.demo.cast import TENANT, A, seed_banshui
from conftest import running_stack


async def test_a_stream_opened_with_a_replaced_key_ends(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "KEEP_ALIVE_SECONDS", 0.2)
    # No engine: the login stays queued, so only the key can end its stream.
    async with running_stack(tmp_path, database_url=database_url, engine="off") as s:
        seeded = await seed_banshui(s.runtime)
        headers = {"Authorization": f"Bearer {seeded.api_key}"}
        async with httpx.AsyncClient(base_url=s.url, headers=headers) as api:
            asked = await api.post(
                "/api/v1/logins", json={"tax_id": A.tax_id, "business": "receive"}
            )
            path = f"/api/v1/logins/{asked.json()['id']}/events"
            async with api.stream("GET", path, timeout=10) as stream:
                lines = stream.aiter_lines()
                while not (await anext(lines)).startswith("data:"):
                    pass
                kept_alive = await asyncio.wait_for(anext(lines), 5)

                await rotate_key(s.runtime.db, s.runtime.clock, TENANT)
                # Keep-alives would go on for ever on a stream that did not end.
                rest = await asyncio.wait_for(_until_the_end(lines), 5)

    assert kept_alive in (": keep-alive", "")
    assert all(not line.startswith("data:") for line in rest)


async def _until_the_end(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines]
