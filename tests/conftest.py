"""The shared cast and a banshui server on a real socket, for tests of the stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from banshui.app import create_app
from banshui.client import BanshuiClient
from banshui.core.clock import Clock, SystemClock
from banshui.core.settings import Settings
from banshui.demo.cast import seed_banshui, seed_simulator
from banshui.runtime import Runtime
from banshui.serving import bound_socket, serving


@dataclass
class Stack:
    """banshui and its embedded simulator, serving on 127.0.0.1."""

    url: str
    app: FastAPI
    settings: Settings
    runtime: Runtime
    sim: httpx.AsyncClient  # the simulator's own API, over HTTP
    http: httpx.AsyncClient  # banshui's API without credentials


def make_settings(folder: Path, port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{folder / 'banshui.db'}",
        "var_dir": folder,
        "public_url": f"http://127.0.0.1:{port}",
        "simulator": "on",
        "simulator_url": None,
        "sandbox": "off",
        "code_timeout_seconds": 10,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running_stack(
    folder: Path, clock: Clock | None = None, **overrides: object
) -> AsyncIterator[Stack]:
    sock = bound_socket()
    settings = make_settings(folder, sock.getsockname()[1], **overrides)

    def make(config: Settings) -> FastAPI:
        return create_app(config, clock=clock or SystemClock())

    async with (
        serving(make, settings, sock) as running,
        httpx.AsyncClient(base_url=f"{running.url}/sim", timeout=30) as sim,
        httpx.AsyncClient(base_url=running.url, timeout=30) as http,
    ):
        runtime: Runtime = running.app.state.runtime
        yield Stack(running.url, running.app, settings, runtime, sim, http)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


@dataclass
class Sandbox:
    """The stack with the demo cast (示例集团, 张三, 李四) on both sides."""

    stack: Stack
    api_key: str
    tenant_id: int
    client: BanshuiClient


@pytest.fixture
async def sandbox(stack: Stack) -> AsyncIterator[Sandbox]:
    seeded = await seed_banshui(stack.runtime)
    assert seeded.api_key is not None
    await seed_simulator(stack.runtime, stack.sim, pinned=None, seed=7)
    async with BanshuiClient(stack.url, seeded.api_key) as client:
        yield Sandbox(stack, seeded.api_key, seeded.tenant_id, client)
