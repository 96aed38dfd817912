"""``banshui serve`` with the embedded simulator is a sandbox with the cast in it."""

from __future__ import annotations

import logging
import os

import httpx
from fastapi import FastAPI

from banshui.demo.cast import (
    TENANT,
    seed_banshui,
    seed_simulator,
    simulator_admin_headers,
)
from banshui.runtime import Runtime

logger = logging.getLogger(__name__)

KEY_FILE = "demo-api-key"


async def set_up_sandbox(runtime: Runtime, sim_app: FastAPI) -> None:
    """Seed both sides; the demo tenant's key goes to a 0600 file, once."""
    seeded = await seed_banshui(runtime)
    transport = httpx.ASGITransport(app=sim_app)
    headers = simulator_admin_headers(runtime.settings)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim", headers=headers
    ) as admin:
        await seed_simulator(runtime, admin, pinned=None, seed=1)

    if seeded.api_key is None:
        return
    path = runtime.settings.var_dir / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(seeded.api_key + "\n")
    logger.warning("sandbox tenant %s created; its API key is in %s", TENANT, path)
