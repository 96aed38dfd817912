"""Fixtures of the API tests, shared by each module to keep them fast.

A module's tests share one sandbox, so they compare counts before and after a
request instead of assuming an empty database; each module marks its tests with
``pytestmark`` to run on the module's event loop, where the server runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from banshui.accounts.service import Registry
from banshui.accounts.tenants import add_tenant
from banshui.client import BanshuiClient
from banshui.demo.cast import seed_banshui, seed_simulator
from conftest import Sandbox, stack_on_a_fresh_database
from databases import Databases

# A valid 统一社会信用代码 in 深圳 that the cast does not use.
SPARE_TAX_ID = "91440300MA5FE0050Q"
ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")


@dataclass
class OtherTenant:
    """A second tenant, 另一集团, with a key of its own."""

    tenant_id: int
    api_key: str
    http: httpx.AsyncClient  # banshui's API with that key


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Sandbox]:
    """The stack with the demo cast, once per module."""
    folder = tmp_path_factory.mktemp("api")
    async with stack_on_a_fresh_database(databases, folder) as stack:
        seeded = await seed_banshui(stack.runtime)
        assert seeded.api_key is not None
        await seed_simulator(stack.runtime, stack.sim, pinned=None, seed=7)
        async with BanshuiClient(stack.url, seeded.api_key) as client:
            yield Sandbox(stack, seeded.api_key, seeded.tenant_id, client)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def other(sandbox: Sandbox) -> AsyncIterator[OtherTenant]:
    runtime = sandbox.stack.runtime
    made = await add_tenant(runtime.db, runtime.clock, "另一集团", actor="test")
    headers = {"Authorization": f"Bearer {made.api_key}"}
    async with httpx.AsyncClient(
        base_url=sandbox.stack.url, headers=headers, timeout=30
    ) as http:
        yield OtherTenant(made.tenant.id, made.api_key, http)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def unserved_tax_id(sandbox: Sandbox) -> str:
    """An enterprise of 示例集团 that no account serves: its logins fail at once."""
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.add_enterprise(
        sandbox.tenant_id, SPARE_TAX_ID, "深圳市示例戊有限公司"
    )
    return SPARE_TAX_ID
