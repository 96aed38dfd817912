"""What a process does besides answering HTTP: the engine, forwarding, webhooks.

``banshui serve`` runs it beside the API (the engine unless ``BANSHUI_ENGINE``
is off there); ``banshui worker`` runs it alone. Every part is safe to run in
several processes at once on PostgreSQL: each claims its work from the database.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from banshui.drivers.base import BureauDriver
from banshui.forwarding.worker import Forwarder
from banshui.login.engine import LoginEngine
from banshui.login.progress import Sleep
from banshui.runtime import Runtime
from banshui.sync.worker import WebhookDeliverer


async def start_background(
    stack: AsyncExitStack,
    runtime: Runtime,
    bureau: BureauDriver,
    *,
    sleep: Sleep = asyncio.sleep,
    run_engine: bool = True,
) -> LoginEngine:
    """Start the parts; ``stack`` stops them. The engine is made either way:
    the API releases leases and hands out sessions through it."""
    engine = LoginEngine(
        runtime.db,
        runtime.clock,
        runtime.vault,
        runtime.inbox,
        bureau,
        runtime.settings,
        sleep=sleep,
        events=runtime.events,
        bells=runtime.bells,
    )
    runtime.extras["engine"] = engine
    if run_engine:
        await engine.start()
        stack.push_async_callback(engine.stop)

    forwarder = Forwarder(runtime.db, runtime.clock, runtime.vault)
    runtime.inbox.on_forwards(forwarder.wake)
    runtime.extras["forwarder"] = forwarder
    await forwarder.start()
    stack.push_async_callback(forwarder.stop)

    deliverer = WebhookDeliverer(runtime.db, runtime.clock, runtime.vault)
    runtime.extras["webhooks"] = deliverer
    await deliverer.start()
    stack.push_async_callback(deliverer.stop)
    return engine
