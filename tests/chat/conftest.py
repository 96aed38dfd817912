"""Fixtures of the chat tests: a fresh database and one customer of the number side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from banshui.numbers.customers import NewCustomer
from banshui.runtime import Runtime

from .world import fresh_runtime, new_customer


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    async with fresh_runtime(tmp_path, database_url) as made:
        yield made


@pytest.fixture
async def customer(runtime: Runtime) -> NewCustomer:
    return await new_customer(runtime)
