"""Mounted under /sim in another app, the simulator answers at its relative routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from banshui.simulator import SimConfig, create_app

from .cast import SHENZHEN, TAX_A, enrol
from .portal import ask_to_add, type_code
from .steps import call, latest_code, log_in, session


def _host_with_simulator() -> FastAPI:
    simulator = create_app(SimConfig(delivery_delay_ms=1))

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[None]:
        async with simulator.router.lifespan_context(simulator):
            yield

    host = FastAPI(lifespan=lifespan)
    host.mount("/sim", simulator)
    return host


async def test_a_login_through_the_mounted_simulator_works_with_its_cookie() -> None:
    host = _host_with_simulator()
    transport = httpx.ASGITransport(app=host)
    client = httpx.AsyncClient(transport=transport, base_url="http://host/sim")

    async with host.router.lifespan_context(host), client:
        await enrol(client)
        token = await log_in(client, TAX_A)

        by_header = await session(client, token)
        by_cookie = await call(client, "/api/session")

    assert by_header["data"]["tax_id"] == TAX_A
    assert by_cookie["data"]["tax_id"] == TAX_A


async def test_the_mounted_simulator_leaves_the_host_paths_alone() -> None:
    host = _host_with_simulator()
    transport = httpx.ASGITransport(app=host)

    async with httpx.AsyncClient(transport=transport, base_url="http://host") as client:
        assert (await client.get("/sim/healthz")).json() == {"ok": True}
        assert (await client.get("/healthz")).status_code == 404


async def test_a_face_checks_qr_address_keeps_the_mounts_prefix() -> None:
    host = _host_with_simulator()
    transport = httpx.ASGITransport(app=host)
    client = httpx.AsyncClient(transport=transport, base_url="http://host/sim")

    async with host.router.lifespan_context(host), client:
        await enrol(client)
        asked = await ask_to_add(client, "13100000009", SHENZHEN)
        code = await latest_code(client, "13100000009")
        typed = await type_code(client, asked["data"]["request_id"], code)
        qr_url = typed["data"]["qr_url"]
        page = (await client.get(qr_url)).json()

    face_check_id = typed["data"]["face_check_id"]
    assert qr_url == f"http://host/sim/face-checks/{face_check_id}"
    assert page["data"]["status"] == "pending"
