"""The cast on a running stack, and the steps the engine's tests share."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from banshui.accounts.models import Account
from banshui.app import bureau_url, create_app
from banshui.client import BanshuiClient
from banshui.core.clock import Clock, ManualClock, SystemClock
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings
from banshui.demo.cast import (
    Company,
    Member,
    Seeded,
    seed_banshui,
    seed_simulator,
    simulator_admin_headers,
)
from banshui.drivers.http import HttpDriver
from banshui.login.engine import LoginEngine
from banshui.login.progress import Sleep
from banshui.numbers.models import Number
from banshui.runtime import Runtime, build_runtime
from banshui.serving import bound_socket, serving
from banshui.simulator.bureau import Bureau
from banshui.sms.models import InboundSms
from conftest import Sandbox, Stack, make_settings, running_stack
from databases import Databases

__all__ = ["Sandbox", "Stack"]  # the tests of this folder take them from here

Login = dict[str, Any]
CastOn = Callable[..., AbstractAsyncContextManager[Sandbox]]


@dataclass(frozen=True)
class Template:
    """banshui's database with the cast in it, migrated and seeded once."""

    folder: Path  # the var dir, with the key the cast's secrets are sealed with
    database_url: str
    api_key: str
    tenant_id: int


@pytest.fixture(scope="session")
def template(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Template:
    # Migrating and seeding take longer than most tests here: done once, copied.
    folder = tmp_path_factory.mktemp("cast")
    seeded: list[Seeded] = []

    def build(url: str) -> None:
        upgrade(url)
        seeded.append(asyncio.run(_seed(make_settings(folder, 0, database_url=url))))

    url = databases.template("cast", build)
    assert seeded and seeded[0].api_key is not None
    return Template(folder, url, seeded[0].api_key, seeded[0].tenant_id)


async def _seed(settings: Settings) -> Seeded:
    runtime = build_runtime(settings)
    try:
        return await seed_banshui(runtime)
    finally:
        await runtime.close()


class Sleeper:
    """The engine's sleep on a manual clock: the time passes at once.

    Each pause moves the clock on by what was asked and lets the rest of the
    stack (and the test) run for a moment of real time.
    """

    def __init__(self, clock: ManualClock, real_seconds: float = 0.02) -> None:
        self.clock = clock
        self.real_seconds = real_seconds
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(self.real_seconds)


class Recorder:
    """The runtime's events for a test: what the engine published, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        self.published.append((kind, data))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for published, data in self.published if published == kind]


@pytest.fixture
def cast_on(template: Template, databases: Databases, tmp_path: Path) -> CastOn:
    """A stack with settings (a clock, the engine's sleep) of the test's own.

    ``solve_slider=False`` gives it a driver that leaves sliders to a person.
    """

    @asynccontextmanager
    async def on(
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        solve_slider: bool = True,
        events: Recorder | None = None,
        **overrides: object,
    ) -> AsyncIterator[Sandbox]:
        for kept in template.folder.iterdir():
            shutil.copy2(kept, tmp_path / kept.name)
        with databases.fresh(tmp_path, template.database_url) as url:
            if sleep is None and solve_slider and events is None:
                stacked = running_stack(tmp_path, clock, database_url=url, **overrides)
            else:
                options = _Options(sleep, solve_slider, events)
                overrides = {**overrides, "database_url": url}
                stacked = _engine_stack(tmp_path, clock, options, overrides)
            async with stacked as stack:
                await seed_simulator(stack.runtime, stack.sim, pinned=None, seed=7)
                async with BanshuiClient(stack.url, template.api_key) as client:
                    yield Sandbox(stack, template.api_key, template.tenant_id, client)

    return on


@dataclass(frozen=True)
class _Options:
    sleep: Sleep | None
    solve_slider: bool
    events: Recorder | None


@asynccontextmanager
async def _engine_stack(
    folder: Path,
    clock: Clock | None,
    options: _Options,
    overrides: dict[str, object],
) -> AsyncIterator[Stack]:
    """The shared running stack, with the engine's sleep, driver and events here."""
    sock = bound_socket()
    settings = make_settings(folder, sock.getsockname()[1], **overrides)

    def make(config: Settings) -> FastAPI:
        driver = HttpDriver(
            bureau_url(config), solve_simulated_slider=options.solve_slider
        )
        app = create_app(
            config,
            clock=clock or SystemClock(),
            driver=driver,
            sleep=options.sleep or asyncio.sleep,
        )
        if options.events is not None:
            # Before start-up, when the engine is made with the runtime's events.
            app.state.runtime.events = options.events
        return app

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


@pytest.fixture
async def sandbox(cast_on: CastOn) -> AsyncIterator[Sandbox]:
    """The shared fixture of the same name, from the seeded copy."""
    async with cast_on() as sandbox:
        yield sandbox


# Asking for logins and following them.


async def ask(
    sandbox: Sandbox,
    company: Company,
    business: str = "receive",
    account_id: int | None = None,
) -> Login:
    return await sandbox.client.ask_login(company.tax_id, business, account_id)


async def settled(sandbox: Sandbox, login_id: str, seconds: float = 30) -> Login:
    """The login once it holds a session or has ended."""
    final: Login = {}
    async with asyncio.timeout(seconds):
        async for login in sandbox.client.follow(login_id):
            final = login
    return final


async def served(
    sandbox: Sandbox,
    company: Company,
    business: str = "receive",
    account_id: int | None = None,
) -> Login:
    asked = await ask(sandbox, company, business, account_id)
    return await settled(sandbox, asked["id"])


async def served_and_released(
    sandbox: Sandbox, company: Company, business: str = "receive"
) -> Login:
    login = await served(sandbox, company, business)
    assert login["status"] == "succeeded", login["reason"]
    await sandbox.client.release(login["id"])
    return login


async def reaching(
    sandbox: Sandbox, login_id: str, status: str, seconds: float = 20
) -> Login:
    """Poll the login until it shows that status."""
    async with asyncio.timeout(seconds):
        while True:
            login = await sandbox.client.login(login_id)
            if login["status"] == status:
                return login
            await asyncio.sleep(0.02)


def engine_of(sandbox: Sandbox) -> LoginEngine:
    return cast(LoginEngine, sandbox.stack.runtime.extras["engine"])


def manual_clock() -> ManualClock:
    """A clock that moves only when the engine sleeps (see ``Sleeper``)."""
    return ManualClock(SystemClock().now())


async def api_get(sandbox: Sandbox, path: str) -> Any:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    response = await sandbox.stack.http.get(path, headers=headers)
    response.raise_for_status()
    return response.json()


# What banshui's side holds.


async def account_on(sandbox: Sandbox, number: str) -> int:
    """The id of the account that logs in with that number."""
    async with sandbox.stack.runtime.db.session() as session:
        account_id = await session.scalar(
            select(Account.id)
            .join(Number, Number.id == Account.number_id)
            .where(Number.msisdn == number)
        )
    assert account_id is not None
    return account_id


async def inbox_rows(sandbox: Sandbox, number: str) -> list[InboundSms]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(InboundSms)
            .where(InboundSms.number == number)
            .order_by(InboundSms.id)
        )
        return list(rows)


# The simulated bureau, through its admin API where it has one.


def bureau_of(sandbox: Sandbox) -> Bureau:
    bureau: Bureau = sandbox.stack.app.state.simulator.state.bureau
    return bureau


async def person_at_bureau(sandbox: Sandbox, member: Member) -> str:
    response = await sandbox.stack.sim.get(f"/admin/persons/{member.id_number}")
    response.raise_for_status()
    return str(response.json()["person_id"])


async def violations(sandbox: Sandbox) -> dict[str, int]:
    answer: dict[str, int] = (await sandbox.stack.sim.get("/admin/violations")).json()
    return answer


async def outbox(sandbox: Sandbox, phone: str) -> list[dict[str, Any]]:
    response = await sandbox.stack.sim.get("/admin/outbox", params={"phone": phone})
    listed: list[dict[str, Any]] = response.json()["sms"]
    return listed


async def logs_in_by_hand(
    sandbox: Sandbox, phone: str, company: Company, count: int
) -> None:
    """The person logs in at the site with that phone; banshui sees the SMS."""
    body = {"phone": phone, "tax_id": company.tax_id, "count": count}
    response = await sandbox.stack.sim.post("/admin/manual-logins", json=body)
    response.raise_for_status()
    assert response.json()["stopped"] is None


async def hold(sandbox: Sandbox, login_id: str, held: bool) -> None:
    """Mark the handed-out session in use at the bureau, as the RPA would be."""
    session = await sandbox.client.session(login_id)
    body = {"session_token": session["cookies"]["SIMSESSION"], "held": held}
    (await sandbox.stack.sim.post("/admin/leases", json=body)).raise_for_status()


@asynccontextmanager
async def undelivered(sandbox: Sandbox, phone: str) -> AsyncIterator[None]:
    """The carrier keeps the phone's SMS in the outbox while the block runs."""
    kept = bureau_of(sandbox).state.deliveries[phone]
    response = await sandbox.stack.sim.delete(f"/admin/deliveries/{phone}")
    response.raise_for_status()
    try:
        yield
    finally:
        # Put back in the simulator as it was, whichever gateway format it is.
        bureau_of(sandbox).state.deliveries[phone] = kept


async def deliver_kept(sandbox: Sandbox, phone: str) -> int:
    """Hand the SMS kept for the phone to the carrier now, oldest first."""
    bureau = bureau_of(sandbox)
    kept = [s for s in bureau.state.outbox if s.phone == phone and s.delivery == "kept"]
    for sms in kept:
        task = bureau.send(sms)
        assert task is not None, "the phone has no delivery configured"
        await task
    return len(kept)
