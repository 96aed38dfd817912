"""The six steps of DESIGN §7, run over real HTTP against a fresh server."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from banshui.app import create_app
from banshui.client import IDLE_CONNECTION_SECONDS, BanshuiClient
from banshui.core.clock import SHANGHAI, SystemClock
from banshui.core.settings import Settings
from banshui.demo.cast import (
    S1,
    S2,
    S3,
    ZHANG_SAN,
    A,
    B,
    C,
    Company,
    D,
    seed_banshui,
    seed_simulator,
    simulator_admin_headers,
)
from banshui.demo.faults import (
    ASKS,
    CODE_TIMEOUT_SECONDS,
    CODE_VALID_SECONDS,
    FAULTS,
    HAND_LOGIN_FAULTS,
    consumed_twice,
    explanations,
    mark,
    summary,
    switch,
    taken_codes,
)
from banshui.drivers.profile import DriverKind
from banshui.runtime import Runtime
from banshui.serving import bound_socket, serving

Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    company: Company
    business: str
    sms_used: int
    switched: bool
    expected_number: str
    before: str = ""


STEPS = (
    Step(1, A, "receive", 1, False, S1),
    Step(2, B, "receive", 0, True, S1),
    Step(3, C, "receive", 1, False, S1),
    Step(4, D, "issue", 1, False, S3),
    Step(5, A, "receive", 1, False, S1, before="drop"),
    Step(6, A, "receive", 1, False, S2, before="manual"),
)
MANUAL_LOGINS = 17


async def run_demo(
    seed: int = 1,
    report: Report = lambda _line: None,
    faults: bool = False,
    driver: DriverKind | None = None,
) -> dict[str, Any]:
    """Run the scenario on a temporary database; the result of DESIGN §7.

    ``driver`` overrides BANSHUI_DRIVER for the run.
    """
    chosen: dict[str, Any] = {"driver": driver} if driver is not None else {}
    with tempfile.TemporaryDirectory(prefix="banshui-demo-") as folder:
        sock = bound_socket()
        port = sock.getsockname()[1]
        settings = Settings(
            **chosen,
            database_url=f"sqlite:///{Path(folder) / 'banshui.db'}",
            var_dir=Path(folder),
            public_url=f"http://127.0.0.1:{port}",
            simulator="on",
            simulator_url=None,
            sandbox="off",
            code_timeout_seconds=CODE_TIMEOUT_SECONDS if faults else 30,
            code_valid_seconds=CODE_VALID_SECONDS if faults else 300,
        )
        async with serving(create_app, settings, sock) as running:
            runtime: Runtime = running.app.state.runtime
            run = Run(runtime, seed, report, faults)
            return await run.scenario(running.url)


@dataclass
class Run:
    """One run of the scenario, with or without the faults switched on."""

    runtime: Runtime
    seed: int
    report: Report
    faults: bool

    async def scenario(self, url: str) -> dict[str, Any]:
        seeded = await seed_banshui(self.runtime)
        assert seeded.api_key is not None
        headers = simulator_admin_headers(self.runtime.settings)
        # Idle connections let go before the server closes them (see client.py).
        idle = httpx.Limits(keepalive_expiry=IDLE_CONNECTION_SECONDS)
        async with httpx.AsyncClient(
            base_url=f"{url}/sim", timeout=30, headers=headers, limits=idle
        ) as sim:
            await seed_simulator(self.runtime, sim, _ten_o_clock_today(), self.seed)
            self.report("cast set up: 示例集团, 张三 (S1, S2), 李四 (S3)")
            if self.faults:
                await switch(sim, FAULTS)
                self.report("faults on: the carrier and the bureau misbehave")

            async with BanshuiClient(url, seeded.api_key) as client:
                logins = []
                for step in STEPS:
                    await self._before(step, sim)
                    logins.append(await self._step(step, client, sim))
            return await self._result(sim, logins)

    async def _result(
        self, sim: httpx.AsyncClient, logins: list[dict[str, Any]]
    ) -> dict[str, Any]:
        violations = (await sim.get("/admin/violations")).json()
        stats = (await sim.get("/admin/stats")).json()
        fired = (await sim.get("/admin/faults/fired")).json()
        manual = stats["phones"].get(S1, {}).get("manual", 0)
        outbox = (await sim.get("/admin/outbox")).json()["sms"]
        taken = await taken_codes(self.runtime)
        beyond = [self._beyond(login, fired, outbox, taken) for login in logins]

        ok = all(login["as_expected"] for login in logins) and not violations["total"]
        if self.faults:
            ok = ok and consumed_twice(taken) == 0
            ok = ok and all(item["unexplained"] == 0 for item in beyond)
            self.report(f"faults that fired: {summary(fired)}")
        else:
            ok = ok and manual == MANUAL_LOGINS
        return {
            "ok": ok,
            "logins": [_public(login) for login in logins],
            "sms_total": sum(login["sms_used"] for login in logins),
            "naive_sms": len(logins),
            "sms_manual": manual,
            "violations": violations["total"],
            "codes_consumed_twice": consumed_twice(taken),
            "sms_beyond_table": [item for item in beyond if item["sms"]],
            "faults": fired if self.faults else [],
        }

    def _beyond(
        self,
        login: dict[str, Any],
        fired: list[dict[str, Any]],
        outbox: list[dict[str, Any]],
        taken: Any,
    ) -> dict[str, Any]:
        """The SMS a step used beyond the table, and the faults that explain them."""
        start, end = login["marks"]
        sms = login["sms_used"] - login["expected_sms"]
        causes = explanations(
            login["asks"],
            fired[start.fired : end.fired],
            outbox[start.outbox : end.outbox],
            taken,
        )
        return {
            "step": login["step"],
            "sms": sms,
            "explained_by": causes[: max(sms, 0)],
            "unexplained": max(sms - len(causes), 0) + max(-sms, 0),
        }

    async def _before(self, step: Step, sim: httpx.AsyncClient) -> None:
        body: dict[str, Any]
        if step.before == "drop":
            body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
            (await sim.post("/admin/sessions/drop", json=body)).raise_for_status()
            self.report("the bureau dropped 张三's 深圳 session")
        elif step.before == "manual":
            await self._logs_in_by_hand(sim)

    async def _logs_in_by_hand(self, sim: httpx.AsyncClient) -> None:
        # With faults a step may have spent another code on S1: he logs in as
        # often as it takes S1 to its 20.
        count = MANUAL_LOGINS
        if self.faults:
            stats = (await sim.get("/admin/stats")).json()
            count = stats["phones"].get(S1, {}).get("left", 20)
            await switch(sim, HAND_LOGIN_FAULTS)
        body = {"phone": S1, "tax_id": A.tax_id, "count": count}
        (await sim.post("/admin/manual-logins", json=body)).raise_for_status()
        await _until_spent(self.runtime, S1, 20)
        if self.faults:
            await switch(sim, FAULTS)
        self.report(f"张三 logged in by hand {count} times on S1: 20 codes used today")

    async def _step(
        self, step: Step, client: BanshuiClient, sim: httpx.AsyncClient
    ) -> dict[str, Any]:
        start = await mark(sim)
        result = await _run_step(step, client, sim, self.faults)
        result["marks"] = (start, await mark(sim))
        self.report(_line(step, result))
        return result


async def _run_step(
    step: Step, client: BanshuiClient, sim: httpx.AsyncClient, faults: bool
) -> dict[str, Any]:
    """Ask for the step's login, and ask again (faults only) while it fails."""
    asks = [await _ask(step, client, sim)]
    while faults and asks[-1]["status"] != "succeeded" and len(asks) < ASKS:
        asks.append(await _ask(step, client, sim))

    final = asks[-1]
    result = {
        "step": step.number,
        "tax_id": step.company.tax_id,
        "business": step.business,
        "status": final["status"],
        # What the step cost: every ask's SMS, the failed ones' too.
        "sms_used": sum(ask["sms_used"] for ask in asks),
        "switched": final["switched"],
        "number": final["number"],
        "reason": final["reason"],
        "failed_asks": [_failed_ask(ask) for ask in asks[:-1]],
        "asks": [ask["id"] for ask in asks],
        "expected_sms": step.sms_used,
    }
    result["as_expected"] = _as_expected(step, result, faults)
    return result


async def _ask(
    step: Step, client: BanshuiClient, sim: httpx.AsyncClient
) -> dict[str, Any]:
    """One login of the step, followed until it holds a session or ends."""
    asked = await client.ask_login(step.company.tax_id, step.business)
    final = asked
    async for final in client.follow(asked["id"]):
        if final["status"] == "succeeded":
            break

    if final["status"] == "succeeded":
        await _use_session(client, sim, asked["id"])
        await client.release(asked["id"])
    return final


def _failed_ask(login: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": login["status"],
        "reason": login["reason"],
        "sms_used": login["sms_used"],
    }


def _as_expected(step: Step, final: dict[str, Any], faults: bool) -> bool:
    """The table's row held; with faults, the SMS count is checked apart."""
    if final["status"] != "succeeded" or final["switched"] != step.switched:
        return False
    if faults:
        # A switch still costs nothing, whatever the carrier and the bureau do.
        return not step.switched or bool(final["sms_used"] == 0)
    row = (final["sms_used"], final["number"])
    return row == (step.sms_used, step.expected_number)


async def _use_session(
    client: BanshuiClient, sim: httpx.AsyncClient, login_id: str
) -> None:
    """Act as the RPA: hold the session, read the incoming invoices, let go."""
    session = await client.session(login_id)
    token = session["cookies"]["SIMSESSION"]
    await sim.post("/admin/leases", json={"session_token": token, "held": True})
    page = await sim.get(
        "/api/invoices/incoming", headers={"Cookie": f"SIMSESSION={token}"}
    )
    page.raise_for_status()
    await sim.post("/admin/leases", json={"session_token": token, "held": False})


async def _until_spent(runtime: Runtime, number: str, count: int) -> None:
    for _ in range(200):
        if await runtime.inbox.spent_today(number) >= count:
            return
        await asyncio.sleep(0.05)


def _ten_o_clock_today() -> str:
    today = SystemClock().now().astimezone(SHANGHAI).date()
    return datetime(today.year, today.month, today.day, 10, tzinfo=SHANGHAI).isoformat()


def _public(result: dict[str, Any]) -> dict[str, Any]:
    hidden = ("as_expected", "marks", "asks", "expected_sms")
    return {key: value for key, value in result.items() if key not in hidden}


def _line(step: Step, result: dict[str, Any]) -> str:
    mark = "✓" if result["as_expected"] else "✗"
    asked = "".join(
        f"\n    asked again after: {failed['reason']}"
        for failed in result["failed_asks"]
    )
    return (
        f"{mark} step {step.number}: {step.business} {step.company.key} → "
        f"{result['status']}, sms_used {result['sms_used']}, "
        f"switched {str(result['switched']).lower()}, number {result['number']}"
        f"{asked}"
    )
