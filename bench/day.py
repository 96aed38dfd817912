"""A simulated day through the real engine against the simulated bureau.

Two processes, as banshui is deployed: ``banshui serve`` on a real socket (on
SQLite, pinned to one core where there are two), and this one, which is the
outside world — the simulated bureau on a socket of its own, its carrier, and
the robots (on the other core). The cast is built through ``Registry`` on the
same database before banshui starts, and through the simulator's admin API. Every
request of the day is a robot (an RPA job): it asks ``POST /api/v1/logins``,
follows its events (``GET …/events``) until it settles, takes the session
(``GET …/session``), holds it at the bureau while it reads the incoming
invoices, and releases it. Sessions
drop at random through the simulator's ``session_drop`` fault, and by the admin's
``/admin/sessions/drop``; some persons log in by hand first, spending their
numbers' quota.

The day is a batch: one robot per lane (person, region) asks its lane's requests
one after the other, all lanes at once, so the lanes decide the time (R4).

Measured:
- SMS: what the bureau sent for banshui, against the fresh sessions the lanes
  needed (requests that found no live session, from the engine's records) and
  against one SMS per login.
- Quota: requests that failed for quota while the person had a number with
  quota left at the bureau (must be 0).
- Makespan (with the simulator's slow answers): the time to serve every request,
  against the longest lane's serial work — the holds of its requests plus the
  bureau's latencies on its logins (slow answers and code delivery).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from banshui.client import IDLE_CONNECTION_SECONDS
from banshui.core.clock import SHANGHAI, SystemClock
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings, simulator_admin_token
from banshui.login.models import BureauSession, LoginEvent
from banshui.login.sessions import SessionStore
from banshui.runtime import Runtime, build_runtime
from banshui.serving import bound_socket, serving
from banshui.simulator import create_app as create_simulator
from bench import memory
from bench.cast import (
    ISSUER_SHARE,
    Cast,
    make_cast,
    seed_banshui,
    seed_simulator,
)
from bench.processes import free_port, until_answering

SETTLED = {"succeeded", "released", "expired", "failed", "waiting_person"}
QUOTA_REASON = "(R3)"  # every quota refusal of the engine names R3
# One robot per lane: a login waits for no other, so this is far past its time.
SETTLE_SECONDS = 60.0
_SLOW = re.compile(r"answered (\d+) ms late")
_LOGIN_ID = re.compile(r"/[0-9a-f]{32}")
# Idle connections are let go before uvicorn closes them (5 s), so a robot
# never sends on a connection the server is closing.
_LIMITS = httpx.Limits(
    max_connections=200,
    max_keepalive_connections=200,
    keepalive_expiry=IDLE_CONNECTION_SECONDS,
)


@dataclass(frozen=True)
class DayPlan:
    seed: int = 1
    persons: int = 30
    enterprises: int = 300
    regions: int = 5
    requests: int = 600
    issue_share: float = 0.2
    hold_ms: tuple[int, int] = (5, 20)
    session_drop: float = 0.02
    admin_drops: int = 20
    manual_persons: int = 3
    manual_logins: int = 18
    slow_ms: tuple[int, int] | None = None
    time_limit: float = 240.0


@dataclass(frozen=True)
class Ask:
    index: int
    enterprise: int
    business: str
    hold: float


@dataclass
class Outcome:
    ask: Ask
    login_id: str = ""
    status: str = ""
    reason: str | None = None
    sms_used: int = 0
    quota_left_then: int | None = None
    lost_while_held: bool = False
    released_at: float = 0.0
    # Seconds the robot spent in each step of its job (see ``_job``).
    steps: dict[str, float] = field(default_factory=dict)


@dataclass
class DayRun:
    plan: DayPlan
    cast: Cast
    asks: list[Ask]
    outcomes: list[Outcome] = field(default_factory=list)
    admin_dropped: int = 0
    seconds: float = 0.0
    timed_out: bool = False
    # CPU time of banshui serve's process, every thread, while the day ran.
    server_cpu_s: float = 0.0
    # The same of this process: the bureau, its carrier and the robots.
    outside_cpu_s: float = 0.0


@dataclass(frozen=True)
class Running:
    url: str
    pid: int


def plan_requests(plan: DayPlan, cast: Cast, rng: random.Random) -> list[Ask]:
    """Requests by a skewed weight per enterprise: a few are asked for all day."""
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(cast.enterprises))]
    rng.shuffle(weights)
    chosen = rng.choices(range(len(cast.enterprises)), weights, k=plan.requests)
    asks = []
    for index, firm_index in enumerate(chosen):
        firm = cast.enterprises[firm_index]
        # Only firms with an issuer are asked to issue: scale up to the share.
        chance = min(1.0, plan.issue_share / ISSUER_SHARE)
        issue = firm.issuer is not None and rng.random() < chance
        low, high = plan.hold_ms
        asks.append(
            Ask(
                index=index,
                enterprise=firm_index,
                business="issue" if issue else "receive",
                hold=rng.uniform(low, high) / 1000,
            )
        )
    return asks


async def run_day(
    plan: DayPlan, folder: Path, server_cpu: int | None = None
) -> dict[str, Any]:
    rng = random.Random(plan.seed)
    cast = make_cast(rng, plan.persons, plan.enterprises, plan.regions)
    asks = plan_requests(plan, cast, rng)
    sim_sock = bound_socket()
    sim_url = f"http://127.0.0.1:{sim_sock.getsockname()[1]}"
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{folder / 'banshui.db'}",
        var_dir=folder,
        public_url=f"http://127.0.0.1:{port}",
        simulator="on",
        simulator_url=sim_url,
        sandbox="off",
        code_timeout_seconds=30,
        login_deadline_seconds=3600,
        streams_per_tenant=STREAMS,
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = build_runtime(settings)
    token = simulator_admin_token(settings)

    def make_bureau(_: Settings) -> FastAPI:
        return create_simulator(admin_token=token)

    try:
        await seed_banshui(runtime, cast)
        async with (
            serving(make_bureau, settings, sim_sock) as bureau,
            httpx.AsyncClient(
                base_url=bureau.url,
                timeout=60,
                limits=_LIMITS,
                headers={"Authorization": f"Bearer {token}"},
            ) as sim,
            _banshui(settings, port, folder, server_cpu) as server,
            httpx.AsyncClient(base_url=server.url, timeout=60, limits=_LIMITS) as api,
        ):
            await seed_simulator(runtime, sim, cast, _ten_o_clock_today(), plan.seed)
            api.headers["Authorization"] = f"Bearer {cast.api_key}"
            await _manual_logins(plan, cast, runtime, sim, rng)
            await _faults(plan, sim)

            day = DayRun(plan, cast, asks)
            started = time.perf_counter()
            server_cpu_s = memory.cpu_seconds(server.pid)
            outside_cpu_s = memory.cpu_seconds()
            await _serve_all(day, api, sim, rng)
            day.seconds = time.perf_counter() - started
            day.server_cpu_s = memory.cpu_seconds(server.pid) - server_cpu_s
            day.outside_cpu_s = memory.cpu_seconds() - outside_cpu_s
            for outcome in day.outcomes:
                outcome.released_at -= started
            return await _report(day, runtime, bureau.app, sim)
    finally:
        await runtime.close()


# Streams the day's tenant may hold open: one for each of its requests at most.
STREAMS = 100_000


@asynccontextmanager
async def _banshui(
    settings: Settings, port: int, folder: Path, cpu: int | None
) -> AsyncIterator[Running]:
    """``banshui serve`` in a process of its own, as it is deployed.

    The bureau and the robots stay in this process: for banshui they are the
    outside world, and on a machine of two cores each side has one.
    """
    env = dict(os.environ)
    env.update(
        BANSHUI_DATABASE_URL=settings.database_url,
        BANSHUI_VAR_DIR=str(settings.var_dir),
        BANSHUI_PUBLIC_URL=settings.public_url,
        BANSHUI_SIMULATOR="on",
        BANSHUI_SIMULATOR_URL=str(settings.simulator_url),
        BANSHUI_SANDBOX="off",
        BANSHUI_CODE_TIMEOUT_SECONDS=str(settings.code_timeout_seconds),
        BANSHUI_LOGIN_DEADLINE_SECONDS=str(settings.login_deadline_seconds),
        # Every robot follows its login's stream, all of one tenant at once.
        BANSHUI_STREAMS_PER_TENANT=str(settings.streams_per_tenant),
    )
    command = [sys.executable, "-m", "banshui", "serve", "--port", str(port)]
    log = (folder / "banshui-serve.log").open("wb")
    server = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if cpu is not None:
            os.sched_setaffinity(server.pid, {cpu})

        def stopped() -> str | None:
            if server.returncode is None:
                return None
            said = (folder / "banshui-serve.log").read_text(errors="replace")
            return f"banshui serve exited early:\n{said[-3000:]}"

        await until_answering(url, stopped)
        yield Running(url, server.pid)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
        log.close()


async def _manual_logins(
    plan: DayPlan,
    cast: Cast,
    runtime: Runtime,
    sim: httpx.AsyncClient,
    rng: random.Random,
) -> None:
    """Some persons log in by hand first: their first number has little quota left."""
    chosen = rng.sample(cast.persons, min(plan.manual_persons, len(cast.persons)))
    for person in chosen:
        firm = next((f for f in cast.enterprises if f.receiver == person.index), None)
        if firm is None:
            continue
        number = person.numbers[0]
        body = {"phone": number, "tax_id": firm.tax_id, "count": plan.manual_logins}
        (await sim.post("/admin/manual-logins", json=body)).raise_for_status()
        for _ in range(400):  # until the inbox has seen them all
            if await runtime.inbox.spent_today(number) >= plan.manual_logins:
                break
            await asyncio.sleep(0.02)


async def _faults(plan: DayPlan, sim: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {"session_drop": plan.session_drop}
    if plan.slow_ms is not None:
        body["slow_ms"] = list(plan.slow_ms)
    (await sim.put("/admin/faults", json=body)).raise_for_status()


async def _serve_all(
    day: DayRun,
    api: httpx.AsyncClient,
    sim: httpx.AsyncClient,
    rng: random.Random,
) -> None:
    """One robot per lane, each serving its lane's requests in order; drops beside.

    A lane is served one request at a time whatever asks (R4), so a robot per lane
    loses no time and leaves the lanes, not the robots, to decide the makespan.
    """
    lanes: dict[tuple[int, str], list[Ask]] = defaultdict(list)
    for ask in day.asks:
        lanes[
            day.cast.lane_of(day.cast.enterprises[ask.enterprise], ask.business)
        ].append(ask)
    robots = [
        asyncio.create_task(_robot(asks, day, api, sim)) for asks in lanes.values()
    ]
    dropper = asyncio.create_task(_admin_drops(day, sim, robots, rng))
    # Bounded: past the time limit the robots stop and the day is reported as
    # far as it went (``served`` says how far).
    _done, late = await asyncio.wait(robots, timeout=day.plan.time_limit)
    for robot in late:
        robot.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    day.timed_out = bool(late)
    day.admin_dropped = await dropper


async def _robot(
    asks: list[Ask],
    day: DayRun,
    api: httpx.AsyncClient,
    sim: httpx.AsyncClient,
) -> None:
    for ask in asks:
        day.outcomes.append(await _request(ask, day, api, sim))


async def _request(
    ask: Ask,
    day: DayRun,
    api: httpx.AsyncClient,
    sim: httpx.AsyncClient,
) -> Outcome:
    """Ask, wait, take the session, use it, release it: one RPA job.

    An error answer from banshui is noted (``api_error``) and the robot goes on
    with the next job, as an RPA farm would.
    """
    firm = day.cast.enterprises[ask.enterprise]
    outcome = Outcome(ask)
    try:
        await _job(ask, firm.tax_id, outcome, api, sim)
    except httpx.HTTPStatusError as error:
        outcome.status = "api_error"
        path = _LOGIN_ID.sub("/{id}", error.request.url.path)
        outcome.reason = f"{error.request.method} {path}: {error.response.status_code}"
    except (OperationalError, httpx.TransportError) as error:
        # The robot's own follow-up (a read of the login) met the same lock.
        outcome.status = "api_error"
        outcome.reason = f"robot: {type(error).__name__}"
    except TimeoutError:
        outcome.status = "stuck"
        outcome.reason = f"no final status within {SETTLE_SECONDS:g} s"
    if outcome.reason and QUOTA_REASON in outcome.reason:
        person = day.cast.persons[day.cast.lane_of(firm, ask.business)[0]]
        outcome.quota_left_then = await _quota_left(sim, person.numbers)
    outcome.released_at = time.perf_counter()
    return outcome


async def _job(
    ask: Ask,
    tax_id: str,
    outcome: Outcome,
    api: httpx.AsyncClient,
    sim: httpx.AsyncClient,
) -> None:
    step = _Steps(outcome.steps)
    asked = await api.post(
        "/api/v1/logins", json={"tax_id": tax_id, "business": ask.business}
    )
    asked.raise_for_status()
    outcome.login_id = asked.json()["id"]
    step.done("ask")
    final = await _settled(api, outcome.login_id)
    outcome.status, outcome.reason = final["status"], final["reason"]
    outcome.sms_used = final["sms_used"]
    step.done("settle")
    if final["status"] != "succeeded":
        return
    try:
        outcome.lost_while_held = not await _use(
            api, sim, outcome.login_id, ask.hold, step
        )
    finally:
        released = await api.post(f"/api/v1/logins/{outcome.login_id}/release")
    released.raise_for_status()
    step.done("release")
    outcome.status = "released"


class _Steps:
    """Times the steps of one job, each from the end of the one before."""

    def __init__(self, into: dict[str, float]) -> None:
        self._into = into
        self._since = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self._into[name] = now - self._since
        self._since = now


async def _settled(api: httpx.AsyncClient, login_id: str) -> dict[str, Any]:
    """The login once it succeeded or ended, followed as an RPA job would: its events.

    ``GET /api/v1/logins/{id}/events`` sends the login after each change of
    status; the stream is let go once one has settled.
    """
    async with asyncio.timeout(SETTLE_SECONDS):
        path = f"/api/v1/logins/{login_id}/events"
        async with api.stream("GET", path) as events:
            events.raise_for_status()
            async for line in events.aiter_lines():
                if not line.startswith("data:"):
                    continue
                current: dict[str, Any] = json.loads(line.removeprefix("data:"))
                if current["status"] in SETTLED:
                    return current
    raise TimeoutError("the event stream ended before the login settled")


async def _use(
    api: httpx.AsyncClient,
    sim: httpx.AsyncClient,
    login_id: str,
    hold: float,
    step: _Steps,
) -> bool:
    """Hold the session at the bureau, read the invoices, let go; False if it died."""
    handed = await api.get(f"/api/v1/logins/{login_id}/session")
    handed.raise_for_status()
    step.done("take")
    token = handed.json()["cookies"]["SIMSESSION"]
    await sim.post("/admin/leases", json={"session_token": token, "held": True})
    page = await sim.get(
        "/api/invoices/incoming", headers={"Cookie": f"SIMSESSION={token}"}
    )
    await asyncio.sleep(hold)
    await sim.post("/admin/leases", json={"session_token": token, "held": False})
    step.done("use")
    return page.status_code == 200


async def _quota_left(sim: httpx.AsyncClient, numbers: list[str]) -> int:
    stats = (await sim.get("/admin/stats")).json()["phones"]
    return sum(stats.get(n, {"left": 20})["left"] for n in numbers)


async def _admin_drops(
    day: DayRun,
    sim: httpx.AsyncClient,
    robots: list[asyncio.Task[None]],
    rng: random.Random,
) -> int:
    """Drop a random lane's session now and then while the day runs."""
    lanes = sorted(
        {
            day.cast.lane_of(day.cast.enterprises[a.enterprise], a.business)
            for a in day.asks
        }
    )
    dropped = 0
    for _ in range(day.plan.admin_drops):
        await asyncio.sleep(rng.uniform(0.05, 0.5))
        if all(robot.done() for robot in robots):
            break
        person, region = rng.choice(lanes)
        body = {"id_number": day.cast.persons[person].id_number, "region": region}
        answer = await sim.post("/admin/sessions/drop", json=body)
        dropped += answer.json().get("dropped", 0)
    return dropped


async def _report(
    day: DayRun, runtime: Runtime, app: FastAPI, sim: httpx.AsyncClient
) -> dict[str, Any]:
    stats = (await sim.get("/admin/stats")).json()["phones"]
    violations = (await sim.get("/admin/violations")).json()
    bureau = app.state.bureau
    fresh = await _fresh_logins(runtime)
    needless = await _needless_fresh(runtime, bureau)
    statuses = Counter(o.status for o in day.outcomes)
    reasons = Counter(
        _reason_kind(o.reason) for o in day.outcomes if o.status == "failed"
    )
    quota_failed = [o for o in day.outcomes if o.quota_left_then is not None]
    fired = Counter(item.fault for item in bureau.state.faults.fired)
    work = _lane_work(day, bureau)
    return {
        "requests": len(day.asks),
        "served": len(day.outcomes),
        "timed_out": day.timed_out,
        "lanes": len(
            {
                day.cast.lane_of(day.cast.enterprises[a.enterprise], a.business)
                for a in day.asks
            }
        ),
        "statuses": dict(statuses),
        "failures": dict(reasons),
        "api_errors": dict(
            Counter(o.reason for o in day.outcomes if o.status == "api_error")
        ),
        "sms_spent": sum(p.get("banshui", 0) for p in stats.values()),
        "sms_used_by_logins": sum(o.sms_used for o in day.outcomes),
        "sms_lower_bound": fresh,
        "needless_fresh_logins": needless,
        "sms_naive": len(day.outcomes),  # one SMS per login served
        "sms_manual": sum(p.get("manual", 0) for p in stats.values()),
        "quota_failures": len(quota_failed),
        "quota_failures_with_quota_left": sum(
            (o.quota_left_then or 0) > 0 for o in quota_failed
        ),
        "sessions_dropped_by_fault": fired.get("session_drop", 0),
        "sessions_dropped_by_admin": day.admin_dropped,
        "sessions_lost_while_held": sum(o.lost_while_held for o in day.outcomes),
        "violations": violations,
        "seconds": day.seconds,
        "server_cpu_s": day.server_cpu_s,
        "outside_cpu_s": day.outside_cpu_s,
        "critical_path_s": max(work.values(), default=0.0),
        "longest_lane": _longest_lane(day, work),
    }


async def _fresh_logins(runtime: Runtime) -> int:
    """Requests that found no live session: they went on to ask for a code."""
    async with runtime.db.session() as session:
        ids = await session.scalars(
            select(LoginEvent.login_id)
            .where(LoginEvent.status == "requesting_code")
            .distinct()
        )
        return len(list(ids))


async def _needless_fresh(runtime: Runtime, bureau: Any) -> int:
    """Fresh logins that ended a session of banshui's that was still alive (R4)."""
    store = SessionStore(runtime.db, runtime.vault, runtime.clock)
    async with runtime.db.session() as session:
        rows = list(await session.scalars(select(BureauSession)))
    tokens = {store.handle(row).cookies.get("SIMSESSION") for row in rows}
    return sum(
        1
        for token, held in bureau.state.sessions.items()
        if token in tokens and held.ended == "replaced"
    )


def _lane_work(day: DayRun, bureau: Any) -> dict[tuple[int, str], float]:
    """Each lane's serial work: its holds plus the bureau's latencies there.

    The longest is the critical-path bound of the day.
    """
    cast = day.cast
    sim_person = {p.sim_id: p.index for p in cast.persons}
    work: dict[tuple[int, str], float] = defaultdict(float)
    for ask in day.asks:
        work[cast.lane_of(cast.enterprises[ask.enterprise], ask.business)] += ask.hold
    delivery = bureau.config.delivery_delay_ms / 1000
    for flow in bureau.state.flows.values():
        if flow.cause == "banshui" and flow.code is not None:
            work[(sim_person[flow.person_id], flow.region)] += delivery
    for item in bureau.state.faults.fired:
        found = _SLOW.search(item.detail)
        flow = bureau.state.flows.get(item.flow_id) if item.flow_id else None
        if item.fault == "slow_ms" and found and flow is not None:
            work[(sim_person[flow.person_id], flow.region)] += (
                int(found.group(1)) / 1000
            )
    return work


def _longest_lane(day: DayRun, work: dict[tuple[int, str], float]) -> dict[str, Any]:
    """Where the longest lane's time went, step by step, fresh logins apart.

    A step's seconds are the robot's, from the end of the step before: ``ask``
    is the login's creation, ``settle`` the wait until it succeeded (a fresh
    login's includes the bureau's latencies), ``take`` the session's hand-out,
    ``use`` the hold with the robot's own calls to the bureau, ``release`` the
    release.
    """
    if not work:
        return {}
    lane = max(work, key=lambda key: work[key])
    cast = day.cast
    mine = [
        o
        for o in day.outcomes
        if cast.lane_of(cast.enterprises[o.ask.enterprise], o.ask.business) == lane
    ]
    report: dict[str, Any] = {"requests": len(mine), "work_s": work[lane]}
    for kind, outcomes in (
        ("fresh", [o for o in mine if o.sms_used > 0]),
        ("reused", [o for o in mine if o.sms_used == 0]),
    ):
        steps: dict[str, float] = defaultdict(float)
        for outcome in outcomes:
            for name, seconds in outcome.steps.items():
                steps[name] += seconds
        report[kind] = {"requests": len(outcomes), "steps_s": dict(steps)}
    return report


def _reason_kind(reason: str | None) -> str:
    if not reason:
        return "unknown"
    if QUOTA_REASON in reason:
        return "quota"
    return reason.split(":")[0][:60]


def _ten_o_clock_today() -> str:
    today = SystemClock().now().astimezone(SHANGHAI).date()
    return datetime(today.year, today.month, today.day, 10, tzinfo=SHANGHAI).isoformat()


def run(plan: DayPlan, server_cpu: int | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="banshui-day-") as folder:
        return asyncio.run(run_day(plan, Path(folder), server_cpu))


def cli(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.day", description=__doc__)
    defaults = DayPlan()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, tuple) or value is None:
            parser.add_argument(flag, type=int, nargs=2, default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument(
        "--cpu", type=int, help="pin this process (the bureau, the robots) to one core"
    )
    parser.add_argument("--server-cpu", type=int, help="pin banshui serve to one core")
    args = vars(parser.parse_args(argv))
    cpu = args.pop("cpu")
    server_cpu = args.pop("server_cpu")
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in args.items()
    }
    plan = DayPlan(**values)
    return run(plan, server_cpu)


def main() -> None:
    print(json.dumps(cli(), ensure_ascii=False))


if __name__ == "__main__":
    main()
