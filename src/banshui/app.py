"""The banshui server: API, webhooks, engine and, by default, the simulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from banshui.api import chat, errors, health, hooks, logins
from banshui.api import forwarding as forwarding_routes
from banshui.api import registry as registry_routes
from banshui.api import webhooks as webhook_routes
from banshui.core.clock import Clock
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings
from banshui.demo.sandbox import set_up_sandbox
from banshui.drivers.base import BureauDriver
from banshui.drivers.http import HttpDriver
from banshui.forwarding.worker import Forwarder
from banshui.login.engine import LoginEngine
from banshui.login.progress import Sleep
from banshui.provider import api as provider_api
from banshui.provider import sources as provider_sources
from banshui.query import routes as query_routes
from banshui.runtime import Runtime, build_runtime
from banshui.sync.publisher import OutboxEvents
from banshui.sync.worker import WebhookDeliverer
from banshui.web.console import routes as console_routes

logger = logging.getLogger(__name__)

SIM_PATH = "/sim"


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    driver: BureauDriver | None = None,
    run_engine: bool = True,
    sleep: Sleep = asyncio.sleep,
) -> FastAPI:
    """One process's app; the runtime is built at start-up and closed at the end."""
    runtime = build_runtime(settings, clock)
    # In place before the engine is made: what it publishes is stored and sent.
    runtime.events = OutboxEvents(runtime.db, runtime.clock)
    sim_app = _simulator(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await asyncio.to_thread(upgrade, settings.database_url)
            stack.push_async_callback(runtime.close)
            if sim_app is not None:
                await stack.enter_async_context(
                    sim_app.router.lifespan_context(sim_app)
                )
            # Every bureau this build can reach is the simulator, whose slider
            # publishes its answer; a real site's slider goes to a person.
            bureau = driver or HttpDriver(
                bureau_url(settings), solve_simulated_slider=True
            )
            stack.push_async_callback(bureau.close)
            engine = LoginEngine(
                runtime.db,
                runtime.clock,
                runtime.vault,
                runtime.inbox,
                bureau,
                settings,
                sleep=sleep,
                events=runtime.events,
            )
            runtime.extras["engine"] = engine
            if sim_app is not None and settings.sandbox == "on":
                await set_up_sandbox(runtime, sim_app)
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
            yield

    app = FastAPI(
        title="banshui",
        version="0.1.0",
        summary="E-tax bureau logins with 办税小号 sub-numbers",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(logins.router)
    app.include_router(hooks.router)
    app.include_router(health.router)
    app.include_router(forwarding_routes.router)
    app.include_router(registry_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(provider_api.router)
    app.include_router(provider_sources.router)
    app.include_router(query_routes.router)
    app.include_router(chat.router_for(settings))
    app.include_router(console_routes.router)
    app.mount(console_routes.STATIC_PATH, console_routes.static_files(), name="static")
    if sim_app is not None:
        app.state.simulator = sim_app
        app.mount(SIM_PATH, sim_app)
    return app


def runtime_of_app(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def bureau_url(settings: Settings) -> str:
    """Where the drivers find the (simulated) bureau."""
    if settings.simulator_url is not None:
        return settings.simulator_url
    return settings.public_url + SIM_PATH


def _simulator(settings: Settings) -> FastAPI | None:
    if not settings.simulator_embedded:
        return None
    # Imported here: a deployment with the simulator off never loads it.
    from banshui.simulator import create_app as create_simulator

    return create_simulator()
