"""Claiming a customer's codes: once each, waiting for one when asked to."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from banshui.audit.log import record
from banshui.core.errors import NotFound
from banshui.numbers.models import Customer, Number
from banshui.numbers.phones import normalize_mobile
from banshui.runtime import Runtime
from banshui.sms.models import InboundSms


@dataclass(frozen=True, slots=True)
class Claimed:
    code: str
    sms_id: int
    received_at: datetime


async def reachable_number(runtime: Runtime, customer: Customer, number: str) -> str:
    """The number if it is this customer's; another's answers as an unknown one."""
    msisdn = normalize_mobile(number)
    async with runtime.db.session() as session:
        owner = await session.scalar(
            select(Number.customer_id).where(Number.msisdn == msisdn)
        )
    if owner != customer.id:
        raise NotFound("this customer holds no such number", field="number")
    return msisdn


async def claim_code(
    runtime: Runtime,
    customer: Customer,
    number: str,
    after: datetime,
    wait_seconds: float,
    gone: asyncio.Event | None = None,
) -> Claimed | None:
    """The first unclaimed code since ``after``, waiting up to ``wait_seconds``.

    ``gone`` is set when the client hangs up: from then on the claim waits no
    more and takes nothing, and a code it took as the client went is given
    back, so that a hang-up never spends one of the number's codes. A client
    that goes after the last look at ``gone`` (while the answer is written)
    still loses its code: nothing tells a server an answer was read.
    """
    hung_up = gone if gone is not None else asyncio.Event()
    claimer = f"customer:{customer.id}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds

    async with runtime.notifier.listening(number) as arrived:
        while not hung_up.is_set():
            # Cleared before looking, so an SMS stored meanwhile still wakes us.
            arrived.clear()
            sms = await runtime.inbox.claim_since(number, after, claimer)
            if sms is not None:
                claimed = await _handed_out(runtime, customer, sms)
                # The last look, as late as it can be: the answer is written next.
                if hung_up.is_set():
                    await _given_back(runtime, customer, sms)
                    return None
                return claimed

            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await _first_set(arrived, hung_up, remaining)
    return None


async def recent_sms(
    runtime: Runtime, customer: Customer, number: str, limit: int
) -> list[InboundSms]:
    """The number's latest SMS, codes included; the listing is audited."""
    listed = await runtime.inbox.latest(number, limit)
    async with runtime.db.transaction() as session:
        record(
            session,
            runtime.clock,
            actor=f"customer:{customer.id}",
            action="sms.listed",
            subject=f"number:{number}",
            detail=f"{len(listed)} SMS through the provider API",
        )
    return listed


async def _handed_out(runtime: Runtime, customer: Customer, sms: InboundSms) -> Claimed:
    async with runtime.db.transaction() as session:
        record(
            session,
            runtime.clock,
            actor=f"customer:{customer.id}",
            action="code.claimed",
            subject=f"number:{sms.number}",
            detail=f"sms:{sms.id} through the provider API",
        )
    assert sms.code is not None  # claim_since hands out only SMS with a code
    return Claimed(code=sms.code, sms_id=sms.id, received_at=sms.received_at)


async def _given_back(runtime: Runtime, customer: Customer, sms: InboundSms) -> None:
    actor = f"customer:{customer.id}"
    if not await runtime.inbox.release(sms, actor):
        return
    async with runtime.db.transaction() as session:
        record(
            session,
            runtime.clock,
            actor=actor,
            action="code.released",
            subject=f"number:{sms.number}",
            detail=f"sms:{sms.id}: the client hung up before the answer",
        )


async def _first_set(
    first: asyncio.Event, second: asyncio.Event, seconds: float
) -> None:
    """Back when either event is set, or after ``seconds``."""
    waits = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.wait(waits)
