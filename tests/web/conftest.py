"""The console's fixtures: a sandbox per module, its operators and one browser.

A module's tests share one sandbox (banshui and the simulator with the demo
cast) and one Chromium, so they run on the module's event loop; each test signs
in afresh in a new browser context.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from banshui.client import BanshuiClient
from banshui.demo.cast import seed_banshui, seed_simulator
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from conftest import Sandbox, stack_on_a_fresh_database
from databases import Databases

if TYPE_CHECKING:
    from playwright.async_api import Browser

ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
PASSWORD = "Console-pass-2026"
# The arguments that let Debian's chromium run here (MACHINE-NOTES.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True, slots=True)
class Cast:
    """The console's operators: 示例集团's staff and the platform's admin."""

    operator: str = "王五"  # operator of 示例集团
    viewer: str = "赵六"  # viewer of 示例集团
    admin: str = "钱七"  # admin of the whole platform
    password: str = PASSWORD


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Sandbox]:
    """The stack with the demo cast, once per module."""
    folder = tmp_path_factory.mktemp("web")
    async with stack_on_a_fresh_database(databases, folder) as stack:
        seeded = await seed_banshui(stack.runtime)
        assert seeded.api_key is not None
        await seed_simulator(stack.runtime, stack.sim, pinned=None, seed=7)
        async with BanshuiClient(stack.url, seeded.api_key) as client:
            yield Sandbox(stack, seeded.api_key, seeded.tenant_id, client)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cast(sandbox: Sandbox) -> Cast:
    runtime = sandbox.stack.runtime
    made = Cast()
    for name, role, tenant_id in (
        (made.operator, Role.OPERATOR, sandbox.tenant_id),
        (made.viewer, Role.VIEWER, sandbox.tenant_id),
        (made.admin, Role.ADMIN, None),
    ):
        await add_operator(
            runtime.db,
            runtime.clock,
            name=name,
            password=PASSWORD,
            role=role,
            tenant_id=tenant_id,
            actor="test",
        )
    return made


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests leave their screenshots, under pytest's tmp dir."""
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, driven by Playwright; skipped only where it is missing."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="the playwright package is not installed"
    )
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()
