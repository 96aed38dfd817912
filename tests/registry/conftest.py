"""One banshui per module for the registry tests; a fresh tenant per test.

Tenants see only their own objects, so tests sharing a server stay apart by
each taking a tenant (and, numbers being global, fresh numbers) of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from banshui.accounts.tenants import add_tenant
from conftest import Stack, stack_on_a_fresh_database
from databases import Databases

ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
_TENANTS = itertools.count(1)


@dataclass
class Caller:
    """A business system of one tenant: its id and the API with its key."""

    tenant_id: int
    http: httpx.AsyncClient


@asynccontextmanager
async def calling(stack: Stack, name: str | None = None) -> AsyncIterator[Caller]:
    """A new tenant and a client holding its API key."""
    runtime = stack.runtime
    name = name or f"示例集团-{next(_TENANTS)}"
    made = await add_tenant(runtime.db, runtime.clock, name, actor="test")
    headers = {"Authorization": f"Bearer {made.api_key}"}
    async with httpx.AsyncClient(
        base_url=stack.url, headers=headers, timeout=30
    ) as http:
        yield Caller(made.tenant.id, http)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("registry")
    async with stack_on_a_fresh_database(databases, folder, simulator="off") as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def caller(server: Stack) -> AsyncIterator[Caller]:
    async with calling(server) as made:
        yield made


@pytest_asyncio.fixture(loop_scope="module")
async def other(server: Stack) -> AsyncIterator[Caller]:
    """A second tenant, 另一集团, that must see nothing of the first."""
    async with calling(server, f"另一集团-{next(_TENANTS)}") as made:
        yield made
