from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from banshui.simulator import SimConfig, create_app

from .cast import Cast, enrol
from .gateway import Gateway, GatewayServer, running_server

# Deliveries and retries a little faster than the defaults, so tests stay quick.
FAST = SimConfig(delivery_delay_ms=1, delivery_backoff_ms=5)


@pytest.fixture
async def sim_app() -> AsyncIterator[FastAPI]:
    app = create_app(FAST)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def bureau(sim_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield client


@pytest.fixture
async def cast(bureau: httpx.AsyncClient) -> Cast:
    return await enrol(bureau)


@pytest.fixture(scope="session")
def gateway_server() -> Iterator[GatewayServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def gateway(gateway_server: GatewayServer) -> Gateway:
    return gateway_server.new_gateway()
