"""The banshui server: API, webhooks, engine and, by default, the simulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from banshui.api import chat, errors, hangups, health, hooks, logins
from banshui.api import forwarding as forwarding_routes
from banshui.api import registry as registry_routes
from banshui.api import webhooks as webhook_routes
from banshui.api.controls import ControlCharacters
from banshui.api.limits import BodyLimit
from banshui.background import start_background
from banshui.core.addresses import ClientAddress
from banshui.core.clock import Clock
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings, simulator_admin_token
from banshui.demo.sandbox import set_up_sandbox
from banshui.drivers.base import BureauDriver
from banshui.drivers.regional import build_driver
from banshui.login.progress import Sleep
from banshui.provider import api as provider_api
from banshui.provider import sources as provider_sources
from banshui.query import routes as query_routes
from banshui.runtime import Runtime, build_runtime
from banshui.sync.publisher import OutboxEvents
from banshui.web.console import routes as console_routes
from banshui.web.failures import failure_page

logger = logging.getLogger(__name__)

SIM_PATH = "/sim"
MAX_BODY = 1024 * 1024


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
    # Made now, so that a bad region profile stops start-up by name.
    bureau = driver or bureau_driver(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await asyncio.to_thread(upgrade, settings.database_url)
            stack.push_async_callback(runtime.close)
            # Before anything waits: a waiter hears rings of other processes.
            await runtime.bells.start()
            if sim_app is not None:
                await stack.enter_async_context(
                    sim_app.router.lifespan_context(sim_app)
                )
            stack.push_async_callback(bureau.close)
            if sim_app is not None and settings.sandbox == "on":
                await set_up_sandbox(runtime, sim_app)
            await start_background(
                stack,
                runtime,
                bureau,
                sleep=sleep,
                run_engine=run_engine and settings.engine == "on",
            )
            yield

    app = FastAPI(
        title="banshui",
        version="0.1.0",
        summary="E-tax bureau logins with 办税小号 sub-numbers",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    # Innermost: its refusals are answered knowing the client's address.
    app.add_middleware(ControlCharacters, page_error=failure_page)
    app.add_middleware(ClientAddress, trusted_proxies=settings.trusted_proxies)
    errors.install(app, page_error=failure_page)
    hangups.install(app)
    # No request of the API or the console comes near it; a bigger one is refused
    # before it is read into memory.
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    app.include_router(logins.router)
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
    # Last, because it goes first: the webhook is matched before any other route.
    hooks.install(app)
    if sim_app is not None:
        app.state.simulator = sim_app
        app.mount(SIM_PATH, sim_app)
    return app


def runtime_of_app(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def bureau_driver(settings: Settings) -> BureauDriver:
    """The drivers of BANSHUI_DRIVER and the region profiles, for the bureau."""
    return build_driver(
        settings.driver, bureau_url(settings), settings.var_dir, settings.profiles_dir
    )


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

    # Mounted at /sim its admin API is on the network too: it takes a token.
    return create_simulator(admin_token=simulator_admin_token(settings))
