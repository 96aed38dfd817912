"""The shared cast and a banshui server on a real socket, for tests of the stack."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
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
from banshui.demo.cast import seed_banshui, seed_simulator, simulator_admin_headers
from banshui.runtime import Runtime
from banshui.serving import bound_socket, serving
from databases import (
    DatabaseChoiceError,
    Databases,
    check_server,
    chosen_kind,
    chosen_server,
)

# Tests about one database only; the other database's run skips them.
ONLY = {"sqlite_only": "sqlite", "postgresql_only": "postgresql"}


def pytest_configure(config: pytest.Config) -> None:
    # An xdist worker is told it is an 80x24 terminal, which would fix the width
    # of the command line's consoles (made at import) whatever a test sets.
    if hasattr(config, "workerinput"):
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Asked for PostgreSQL and none answers: say so before any test, and fail.
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller has checked
    try:
        if chosen_kind() == "postgresql":
            check_server(chosen_server())
    except DatabaseChoiceError as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_report_header() -> str:
    return f"database: {chosen_kind()}"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    kind = chosen_kind()
    for item in items:
        for marker, only in ONLY.items():
            if item.get_closest_marker(marker) and kind != only:
                item.add_marker(pytest.mark.skip(reason=f"runs on {only} only"))

    # A test that takes no database is the same on both: the SQLite run has it.
    if kind == "postgresql":
        kept: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            (kept if _takes_a_database(item) else dropped).append(item)
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _takes_a_database(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    return "databases" in fixtures or bool(item.get_closest_marker("postgresql_only"))


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    folder = tmp_path_factory.mktemp("databases")
    made = Databases(chosen_kind(), folder, chosen_server())
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, migrated to the newest revision."""
    with databases.fresh(tmp_path, databases.migrated) as url:
        yield url


@pytest.fixture
def empty_database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own with nothing in it, for tests of migrating."""
    with databases.fresh(tmp_path, None) as url:
        yield url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--check",
        action="store_true",
        help="run tests/security at full size (make check); small otherwise",
    )


@dataclass
class Stack:
    """banshui and its embedded simulator, serving on 127.0.0.1."""

    url: str
    app: FastAPI
    settings: Settings
    runtime: Runtime
    sim: httpx.AsyncClient  # the simulator's own API, over HTTP
    http: httpx.AsyncClient  # banshui's API without credentials


def make_settings(
    folder: Path, port: int, *, database_url: str, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
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
    folder: Path,
    clock: Clock | None = None,
    *,
    database_url: str,
    **overrides: object,
) -> AsyncIterator[Stack]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    settings = make_settings(folder, port, database_url=database_url, **overrides)

    def make(config: Settings) -> FastAPI:
        return create_app(config, clock=clock or SystemClock())

    async with (
        serving(make, settings, sock) as running,
        httpx.AsyncClient(
            base_url=f"{running.url}/sim",
            timeout=30,
            headers=simulator_admin_headers(settings),
        ) as sim,
        httpx.AsyncClient(base_url=running.url, timeout=30) as http,
    ):
        runtime: Runtime = running.app.state.runtime
        yield Stack(running.url, running.app, settings, runtime, sim, http)


@asynccontextmanager
async def stack_on_a_fresh_database(
    databases: Databases, folder: Path, **overrides: object
) -> AsyncIterator[Stack]:
    """A stack on a migrated database of its own, for fixtures wider than a test."""
    with databases.fresh(folder, databases.migrated) as url:
        async with running_stack(folder, database_url=url, **overrides) as running:
            yield running


@pytest.fixture
async def stack(tmp_path: Path, database_url: str) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, database_url=database_url) as running:
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
