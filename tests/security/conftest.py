"""Security checks: small under ``make test``, full under ``make check``.

``--check`` (``make check``) runs every test here at full size: more crashes,
more requests, more generated examples. Without it the same tests run small, so
each still shows its point within seconds.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from banshui.demo.cast import S1, seed_banshui
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from banshui.sms.models import InboundSms, Source
from banshui.sms.sources import KINDS, add_source
from conftest import Stack, running_stack
from databases import Databases
from security.wire import Signed

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Scale:
    """How hard a check tries: ``pick(small, full)``."""

    full: bool

    def pick(self, small: _T, full: _T) -> _T:
        return full if self.full else small


@pytest.fixture(scope="session")
def scale(pytestconfig: pytest.Config) -> Scale:
    return Scale(full=bool(pytestconfig.getoption("--check")))


@dataclass(frozen=True)
class Door:
    """A gateway source tied to S1: its kind, name, secret and webhook URL."""

    kind: str
    name: str
    secret: str
    url: str


@dataclass
class World:
    """The stack with the demo cast, a customer holding S1 and a source per kind."""

    stack: Stack
    api_key: str
    tenant_id: int
    app_key: str
    app_secret: str
    doors: dict[str, Door]

    @property
    def http(self) -> httpx.AsyncClient:
        return self.stack.http

    async def send(self, request: Signed) -> httpx.Response:
        return await self.http.request(
            request.method,
            request.url,
            content=request.content,
            headers=request.headers,
        )

    async def stored(self, door: Door) -> list[InboundSms]:
        async with self.stack.runtime.db.session() as session:
            rows = await session.scalars(
                select(InboundSms)
                .join(Source, Source.id == InboundSms.source_id)
                .where(Source.name == door.name)
                .order_by(InboundSms.id)
            )
            return list(rows)

    async def refused(self, gateway: str, reason: str) -> float:
        """``banshui_refused_total`` for the pair, as ``/metrics`` shows it."""
        return await metric(
            self.http, "banshui_refused_total", {"gateway": gateway, "reason": reason}
        )


async def metric(http: httpx.AsyncClient, name: str, labels: dict[str, str]) -> float:
    text = (await http.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


CHAT_TOKEN = "security-chat-token-2a7c9e41"
GATEWAY_SECRET = "security-gateway-secret-51f0"
_NAMES = itertools.count(1)


async def add_doors(stack: Stack, number: str = S1) -> dict[str, Door]:
    """One source of each kind for ``number``, each with a fresh name."""
    runtime = stack.runtime
    doors = {}
    for kind in KINDS:
        name = f"sec-{kind}-{next(_NAMES)}"
        await add_source(
            runtime.db,
            runtime.vault,
            runtime.clock,
            kind=kind,
            name=name,
            secret=GATEWAY_SECRET,
            number=number,
            actor="test",
        )
        url = f"{stack.url}/hooks/sms/{kind}/{name}"
        doors[kind] = Door(kind, name, GATEWAY_SECRET, url)
    return doors


@asynccontextmanager
async def world_on(folder: Path, database_url: str) -> AsyncIterator[World]:
    async with running_stack(
        folder, database_url=database_url, chat_token=CHAT_TOKEN
    ) as stack:
        runtime = stack.runtime
        seeded = await seed_banshui(runtime)
        assert seeded.api_key is not None
        customer = await add_customer(
            runtime.db, runtime.vault, runtime.clock, "发票云"
        )
        async with runtime.db.transaction() as session:
            await session.execute(
                update(Number)
                .where(Number.msisdn == S1)
                .values(customer_id=customer.customer.id)
            )
        yield World(
            stack,
            seeded.api_key,
            seeded.tenant_id,
            customer.customer.app_key,
            customer.app_secret,
            await add_doors(stack),
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """One world per module: its tests run on the module's event loop."""
    folder = tmp_path_factory.mktemp("security")
    with databases.fresh(folder, databases.migrated) as url:
        async with world_on(folder, url) as made:
            yield made


_full = False


def pytest_configure(config: pytest.Config) -> None:
    global _full
    _full = bool(config.getoption("--check"))


def full_check() -> bool:
    """For sizes fixed when a module is imported (hypothesis' settings)."""
    return _full


async def settled(http: httpx.AsyncClient, auth: dict[str, str], login_id: str) -> str:
    """Follow a login until it succeeded or failed; its status."""
    async with asyncio.timeout(30):
        while True:
            login = await http.get(f"/api/v1/logins/{login_id}", headers=auth)
            status = str(login.json()["status"])
            if status in ("succeeded", "failed"):
                return status
            await asyncio.sleep(0.05)
