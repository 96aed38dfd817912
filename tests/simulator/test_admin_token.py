"""The admin API answers only to the simulator's admin token, wherever it is served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from banshui.core.settings import SIMULATOR_TOKEN_FILE
from banshui.simulator import SimConfig, create_app
from conftest import Stack

TOKEN = "simulator-admin-token-for-tests"


@pytest.fixture
async def guarded() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SimConfig(delivery_delay_ms=1), admin_token=TOKEN)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
            yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/clock"),
        ("PUT", "/admin/clock"),
        ("POST", "/admin/reset"),
        ("GET", "/admin/faults/fired"),
        ("PUT", "/admin/faults"),
        ("GET", "/admin/violations"),
    ],
)
async def test_an_admin_request_without_the_token_is_refused(
    guarded: httpx.AsyncClient, method: str, path: str
) -> None:
    answer = await guarded.request(method, path, json={"advance_seconds": 3600})

    assert answer.status_code == 401
    assert "admin token" in answer.json()["detail"]


async def test_a_wrong_token_is_refused_and_changes_nothing(
    guarded: httpx.AsyncClient,
) -> None:
    wrong = {"Authorization": "Bearer not-the-simulator-admin-token"}

    moved = await guarded.put(
        "/admin/clock", json={"advance_seconds": 3600}, headers=wrong
    )
    clock = await guarded.get("/admin/clock", headers=_bearer(TOKEN))

    assert moved.status_code == 401
    assert clock.status_code == 200 and clock.json()["pinned"] is False


async def test_the_token_opens_the_admin_api(guarded: httpx.AsyncClient) -> None:
    answer = await guarded.put(
        "/admin/clock", json={"advance_seconds": 60}, headers=_bearer(TOKEN)
    )

    assert answer.status_code == 200, answer.text


async def test_the_simulators_other_paths_need_no_admin_token(
    guarded: httpx.AsyncClient,
) -> None:
    answer = await guarded.get("/healthz")

    assert answer.status_code == 200


async def test_the_simulator_banshui_serves_at_sim_refuses_strangers(
    stack: Stack,
) -> None:
    stranger = await stack.http.put("/sim/admin/clock", json={"advance_seconds": 60})
    operator = await stack.sim.get("/admin/clock")

    assert stranger.status_code == 401
    assert operator.status_code == 200


def test_banshui_sim_takes_its_token_from_the_var_dir(tmp_path: Path) -> None:
    port = _free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "banshui", "sim", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        token = (tmp_path / SIMULATOR_TOKEN_FILE).read_text().strip()
        refused = httpx.get(f"{url}/admin/clock")
        allowed = httpx.get(f"{url}/admin/clock", headers=_bearer(token))
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)

    assert (refused.status_code, allowed.status_code) == (401, 200)
    assert (tmp_path / SIMULATOR_TOKEN_FILE).stat().st_mode & 0o077 == 0
    assert token not in stderr and SIMULATOR_TOKEN_FILE in stderr


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "banshui sim stopped during start-up"
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("banshui sim did not answer within 30 s")
