"""Following a login request over the API until it settles."""

from __future__ import annotations

import asyncio
from typing import Any

from banshui.client import FINAL, BanshuiClient


async def settled(client: BanshuiClient, login_id: str) -> dict[str, Any]:
    """The login object once it has succeeded or ended (15 s at most)."""
    last: dict[str, Any] = {}
    async with asyncio.timeout(15):
        async for last in client.follow(login_id):
            if last["status"] in FINAL:
                break
    return last
