"""The demo's ``--faults`` run: the faults switched on, and the SMS they cost.

Every SMS a step used beyond the table must be explained by a fault that fired
during that step and could have cost a code: a code the carrier lost, a code
that came after its login stopped waiting, a 5xx that kept a code from going
out, a 5xx that lost the session a step had opened, or a code the bureau
refused after the carrier mangled its order. Each explanation is one fault the
simulator recorded; none is counted twice.

A step may take more than one ask: the engine gives a login one fresh code, and
a login whose codes the carrier lost twice fails, saying so; the demo then asks
again, as a business system does (at most ``ASKS`` times). The SMS of every ask
count towards the step, and are explained the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from banshui.runtime import Runtime
from banshui.sms.extraction import extract
from banshui.sms.models import CodeExpectation, InboundSms

# Moderate: most logins meet a fault, few meet two that cost a code.
FAULTS: dict[str, Any] = {
    "sms_duplicate": 0.3,
    "sms_lose": 0.05,
    "sms_delay_ms": [50, 4500],
    "sms_reorder": 0.2,
    "sms_reorder_hold_ms": 800,
    "slow_ms": [0, 300],
    "error_5xx": 0.08,
    "person_not_found": 0.15,
}
# While 张三 logs in by hand the carrier loses nothing: a hand login's SMS that
# never reaches banshui makes the bureau's refusal of a 21st code unavoidable.
HAND_LOGIN_FAULTS = {**FAULTS, "sms_lose": 0.0}

# What the run is tuned to: a short wait for a code, a short rest after one is
# lost (longer than any delay above), so it ends within about a minute.
CODE_TIMEOUT_SECONDS = 5.0
CODE_VALID_SECONDS = 10.0
# A step's login is asked for at most this often: a business system asks again
# for a login that failed (two codes lost in a row, say), and so does the demo.
ASKS = 3

LATE = ("sms_delay_ms", "sms_reorder")
MANGLED = ("sms_duplicate", "sms_reorder", "sms_delay_ms")


@dataclass(frozen=True, slots=True)
class Mark:
    """How much the simulator had recorded when a step began or ended."""

    fired: int
    outbox: int


@dataclass(frozen=True, slots=True)
class Taken:
    """A bureau code as banshui's inbox holds it: which login took it, if any."""

    login_id: str | None


async def mark(sim: httpx.AsyncClient) -> Mark:
    fired = (await sim.get("/admin/faults/fired")).json()
    outbox = (await sim.get("/admin/outbox")).json()["sms"]
    return Mark(fired=len(fired), outbox=len(outbox))


async def switch(sim: httpx.AsyncClient, switches: dict[str, Any]) -> None:
    (await sim.put("/admin/faults", json=switches)).raise_for_status()


async def taken_codes(runtime: Runtime) -> dict[tuple[str, str], list[Taken]]:
    """Each (number, code) banshui stored, and the logins that took it."""
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(
                    InboundSms.number,
                    InboundSms.code,
                    InboundSms.claimed_by,
                    CodeExpectation.waiter,
                ).outerjoin(
                    CodeExpectation, CodeExpectation.id == InboundSms.expectation_id
                )
            )
        ).all()
    taken: dict[tuple[str, str], list[Taken]] = defaultdict(list)
    for number, code, claimed_by, waiter in rows:
        if number is None or code is None:
            continue
        login = waiter.removeprefix("login:") if claimed_by and waiter else None
        taken[(number, code)].append(Taken(login))
    return taken


def consumed_twice(taken: dict[tuple[str, str], list[Taken]]) -> int:
    """Codes handed to a login more than once (never, if all is well)."""
    return sum(
        1
        for uses in taken.values()
        if sum(use.login_id is not None for use in uses) > 1
    )


def explanations(
    asks: Sequence[str],
    fired: list[dict[str, Any]],
    sms: list[dict[str, Any]],
    taken: dict[tuple[str, str], list[Taken]],
) -> list[str]:
    """The faults of one step that each cost it a code, one sentence apiece.

    ``asks`` are the logins the step asked for, in order; the code that worked
    is the last one the last of them took.
    """
    found = [*_outages(fired)]
    on_sms: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in fired:
        if item.get("sms_id") is not None:
            on_sms[int(item["sms_id"])].append(item)

    banshui = [item for item in sms if item["cause"] == "banshui"]
    last = _last_taken(asks[-1], banshui, taken) if asks else None
    for item in banshui:
        cause = _cost_of(set(asks), item, on_sms[int(item["id"])], taken, last)
        if cause is not None:
            found.append(cause)
    return found


def summary(fired: list[dict[str, Any]]) -> str:
    counts = Counter(item["fault"] for item in fired)
    return ", ".join(f"{fault} ×{count}" for fault, count in sorted(counts.items()))


def _outages(fired: list[dict[str, Any]]) -> list[str]:
    found = []
    for item in fired:
        if item["fault"] != "error_5xx":
            continue
        detail = str(item["detail"])
        if detail.startswith("send-code") and not item.get("took_effect"):
            found.append(f"{detail}: the awaited code never went out")
        opened = detail.startswith(("identity", "face-check session"))
        if opened and item.get("took_effect"):
            found.append(f"{detail}: the session it opened was lost")
    return found


def _cost_of(
    asks: set[str],
    sms: dict[str, Any],
    faults: list[dict[str, Any]],
    taken: dict[tuple[str, str], list[Taken]],
    last: int | None,
) -> str | None:
    """The fault that made this SMS's code useless to its login, if one did."""
    code = extract(str(sms["text"])).code
    uses = taken.get((str(sms["phone"]), code or ""), [])
    takers = {use.login_id for use in uses if use.login_id is not None}
    kinds = {item["fault"]: item for item in faults}

    if sms["delivery"] == "lost" and "sms_lose" in kinds:
        return str(kinds["sms_lose"]["detail"])
    late = [kinds[name] for name in LATE if name in kinds]
    if not takers and late:
        return f"{late[0]['detail']}: the code came after its login stopped waiting"
    mangled = [kinds[name] for name in MANGLED if name in kinds]
    if takers & asks and int(sms["id"]) != last and mangled:
        return f"{mangled[0]['detail']}: the bureau refused the code"
    return None


def _last_taken(
    login_id: str,
    sms: list[dict[str, Any]],
    taken: dict[tuple[str, str], list[Taken]],
) -> int | None:
    """The id of the last SMS whose code this login took: the one that worked."""
    last = None
    for item in sms:
        code = extract(str(item["text"])).code
        uses = taken.get((str(item["phone"]), code or ""), [])
        if any(use.login_id == login_id for use in uses):
            last = int(item["id"])
    return last
