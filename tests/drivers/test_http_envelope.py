"""The http driver speaks the sealed protocol: it reopens a forgotten channel and
refuses answers it cannot trust, and the simulator refuses it a stale clock."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from banshui.demo.cast import S1, ZHANG_SAN, A
from banshui.drivers.base import BureauError, Failure, Step
from banshui.drivers.http import HttpDriver

if TYPE_CHECKING:
    from conftest import Sandbox


def _simulated(sandbox: Sandbox) -> Any:
    return sandbox.stack.app.state.simulator.state.bureau


async def _start_a(driver: HttpDriver) -> Any:
    return await driver.start(A.region, A.tax_id, S1, ZHANG_SAN.password)


@pytest.fixture
async def driver(sandbox: Sandbox) -> AsyncIterator[HttpDriver]:
    made = HttpDriver(f"{sandbox.stack.url}/sim")
    yield made
    await made.close()


async def test_every_step_after_the_key_exchange_goes_sealed(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    flow = await _start_a(driver)

    channels = _simulated(sandbox).state.channels
    assert flow.step is Step.CODE
    assert len(channels) == 1


async def test_a_channel_the_site_forgot_is_opened_again_and_the_step_goes_through(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    await _start_a(driver)
    _simulated(sandbox).state.channels.clear()

    flow = await _start_a(driver)

    assert flow.step is Step.CODE
    assert len(_simulated(sandbox).state.channels) == 1


async def test_a_driver_whose_clock_is_six_minutes_late_is_refused_as_stale(
    sandbox: Sandbox,
) -> None:
    def late() -> int:
        return int(time.time() * 1000) - 360_000

    skewed = HttpDriver(f"{sandbox.stack.url}/sim", millis=late)
    try:
        with pytest.raises(BureauError) as refused:
            await _start_a(skewed)
    finally:
        await skewed.close()

    assert (refused.value.failure, refused.value.code) == (Failure.ENVELOPE, 2110)
    assert not refused.value.transient


class _Tampering(httpx.AsyncBaseTransport):
    """Between the driver and the real simulator: flips one byte of each datagram."""

    def __init__(self) -> None:
        self._real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._real.handle_async_request(request)
        body = json.loads(await response.aread())
        if isinstance(body, dict) and "datagram" in body:
            raw = bytearray(base64.b64decode(body["datagram"]))
            raw[-1] ^= 0x01
            body["datagram"] = base64.b64encode(bytes(raw)).decode()
        return httpx.Response(response.status_code, json=body)


async def test_an_answer_tampered_on_the_way_is_not_believed(
    sandbox: Sandbox,
) -> None:
    driver = HttpDriver(f"{sandbox.stack.url}/sim", transport=_Tampering())
    try:
        with pytest.raises(BureauError) as refused:
            await _start_a(driver)
    finally:
        await driver.close()

    assert refused.value.failure is Failure.ENVELOPE
    assert "signature" in refused.value.message
