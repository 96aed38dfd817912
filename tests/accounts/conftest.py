"""One banshui (`server`) per module for the registry tests; a tenant per test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from banshui.accounts.service import Registry
from banshui.accounts.tenants import add_tenant
from conftest import Stack, stack_on_a_fresh_database
from databases import Databases

# The module's tests run on the loop its server runs on (``pytestmark``).
ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
_TENANTS = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("accounts")
    async with stack_on_a_fresh_database(databases, folder) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def registry(server: Stack) -> Registry:
    runtime = server.runtime
    return Registry(runtime.db, runtime.vault, runtime.clock)


@pytest_asyncio.fixture(loop_scope="module")
async def tenant_id(server: Stack) -> int:
    runtime = server.runtime
    name = f"示例集团-{next(_TENANTS)}"
    made = await add_tenant(runtime.db, runtime.clock, name, actor="test")
    return made.tenant.id
