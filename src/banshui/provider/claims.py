"""Claiming a customer's codes: once each, waiting for one when asked to."""

from __future__ import annotations

import asyncio
import contextlib
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
) -> Claimed | None:
    """The first unclaimed code since ``after``, waiting up to ``wait_seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds

    async with runtime.notifier.listening(number) as arrived:
        while True:
            # Cleared before looking, so an SMS stored meanwhile still wakes us.
            arrived.clear()
            sms = await runtime.inbox.claim_since(
                number, after, f"customer:{customer.id}"
            )
            if sms is not None:
                return await _handed_out(runtime, customer, sms)

            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)


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
