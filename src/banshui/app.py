"""The banshui server: API, webhooks, engine and, by default, the simulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from banshui.api import chat, errors, health, hooks, logins
from banshui.api import forwarding as forwarding_routes
from banshui.core.clock import Clock
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings
from banshui.demo.sandbox import set_up_sandbox
from banshui.drivers.base import BureauDriver
from banshui.drivers.http import HttpDriver
from banshui.forwarding.worker import Forwarder
from banshui.login.engine import LoginEngine
from banshui.provider import api as provider_api
from banshui.query import routes as query_routes
from banshui.runtime import Runtime, build_runtime

logger = logging.getLogger(__name__)

SIM_PATH = "/sim"


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    driver: BureauDriver | None = None,
    run_engine: bool = True,
) -> FastAPI:
    """One process's app; the runtime is built at start-up and closed at the end."""
    runtime = build_runtime(settings, clock)
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
            bureau = driver or HttpDriver(bureau_url(settings))
            stack.push_async_callback(bureau.close)
            engine = LoginEngine(
                runtime.db,
                runtime.clock,
                runtime.vault,
                runtime.inbox,
                bureau,
                settings,
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
    app.include_router(provider_api.router)
    app.include_router(query_routes.router)
    app.include_router(chat.router_for(settings))
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
