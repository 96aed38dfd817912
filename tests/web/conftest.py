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
from conftest import Sandbox, running_stack

if TYPE_CHECKING:
    from playwright.async_api import Browser

ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
PASSWORD = "Console-pass-2026"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
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
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    """The stack with the demo cast, once per module."""
    async with running_stack(tmp_path_factory.mktemp("web")) as stack:
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
