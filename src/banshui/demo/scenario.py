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
from banshui.client import BanshuiClient
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
)
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
    seed: int = 1, report: Report = lambda _line: None
) -> dict[str, Any]:
    """Run the scenario on a temporary database; the result of DESIGN §7."""
    with tempfile.TemporaryDirectory(prefix="banshui-demo-") as folder:
        sock = bound_socket()
        port = sock.getsockname()[1]
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'banshui.db'}",
            var_dir=Path(folder),
            public_url=f"http://127.0.0.1:{port}",
            simulator="on",
            simulator_url=None,
            sandbox="off",
            code_timeout_seconds=30,
        )
        async with serving(create_app, settings, sock) as running:
            runtime: Runtime = running.app.state.runtime
            return await _scenario(runtime, running.url, seed, report)


async def _scenario(
    runtime: Runtime, url: str, seed: int, report: Report
) -> dict[str, Any]:
    seeded = await seed_banshui(runtime)
    assert seeded.api_key is not None
    async with httpx.AsyncClient(base_url=f"{url}/sim", timeout=30) as sim:
        await seed_simulator(runtime, sim, _ten_o_clock_today(), seed)
        report("cast set up: 示例集团, 张三 (S1, S2), 李四 (S3)")

        async with BanshuiClient(url, seeded.api_key) as client:
            logins = []
            for step in STEPS:
                await _before(step, runtime, sim, report)
                logins.append(await _run_step(step, client, sim, report))

        violations = (await sim.get("/admin/violations")).json()
        stats = (await sim.get("/admin/stats")).json()

    manual = stats["phones"].get(S1, {}).get("manual", 0)
    sms_total = sum(login["sms_used"] for login in logins)
    ok = all(login["as_expected"] for login in logins) and violations["total"] == 0
    return {
        "ok": ok and manual == MANUAL_LOGINS,
        "logins": [_public(login) for login in logins],
        "sms_total": sms_total,
        "naive_sms": len(logins),
        "sms_manual": manual,
        "violations": violations["total"],
        "faults": [],
    }


async def _before(
    step: Step, runtime: Runtime, sim: httpx.AsyncClient, report: Report
) -> None:
    body: dict[str, Any]
    if step.before == "drop":
        body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
        (await sim.post("/admin/sessions/drop", json=body)).raise_for_status()
        report("the bureau dropped 张三's 深圳 session")
    elif step.before == "manual":
        body = {"phone": S1, "tax_id": A.tax_id, "count": MANUAL_LOGINS}
        (await sim.post("/admin/manual-logins", json=body)).raise_for_status()
        await _until_spent(runtime, S1, 20)
        report(
            f"张三 logged in by hand {MANUAL_LOGINS} times on S1: 20 codes used today"
        )


async def _run_step(
    step: Step, client: BanshuiClient, sim: httpx.AsyncClient, report: Report
) -> dict[str, Any]:
    asked = await client.ask_login(step.company.tax_id, step.business)
    final = asked
    async for final in client.follow(asked["id"]):
        if final["status"] == "succeeded":
            break

    if final["status"] == "succeeded":
        await _use_session(client, sim, asked["id"])
        await client.release(asked["id"])

    result = {
        "step": step.number,
        "tax_id": step.company.tax_id,
        "business": step.business,
        "status": final["status"],
        "sms_used": final["sms_used"],
        "switched": final["switched"],
        "number": final["number"],
        "reason": final["reason"],
    }
    result["as_expected"] = (
        final["status"] == "succeeded"
        and final["sms_used"] == step.sms_used
        and final["switched"] == step.switched
        and final["number"] == step.expected_number
    )
    report(_line(step, result))
    return result


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
    return {key: value for key, value in result.items() if key != "as_expected"}


def _line(step: Step, result: dict[str, Any]) -> str:
    mark = "✓" if result["as_expected"] else "✗"
    return (
        f"{mark} step {step.number}: {step.business} {step.company.key} → "
        f"{result['status']}, sms_used {result['sms_used']}, "
        f"switched {str(result['switched']).lower()}, number {result['number']}"
    )
