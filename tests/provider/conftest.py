"""A provider: the stack with two customers, each holding one of the cast's numbers.

Requests are signed here from docs/provider-api.md, apart from banshui's own
signing code, so a mistake cannot hide by being made the same way on both ends.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from banshui.core.clock import ManualClock
from banshui.demo.cast import S1, S2, seed_banshui
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source
from conftest import Stack, running_stack

LOGIN_SMS = "【中国税务】您的登录验证码：{code}，请确认是本人操作。"

_identities = itertools.count(1)


@dataclass(frozen=True)
class Platform:
    """A customer of the number side, as the platform that bought numbers sees it."""

    name: str
    app_key: str
    app_secret: str


def sign(
    secret: str, method: str, path: str, timestamp: int, nonce: str, body: bytes
) -> str:
    canonical = "\n".join(
        [method, path, str(timestamp), nonce, hashlib.sha256(body).hexdigest()]
    )
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


@dataclass
class Provider:
    """banshui hosting S1 for 发票云 and S2 for 另一平台, on a manual clock."""

    stack: Stack
    clock: ManualClock
    fapiaoyun: Platform
    other: Platform

    async def receive(self, code: str, number: str = S1) -> int:
        """A bureau login code reaching the number; the stored SMS's id."""
        runtime = self.stack.runtime
        # Each sub-number of the cast has its own phone, and a source writes
        # only for its own numbers.
        name = {S1: "sim-s1", S2: "sim-s2"}[number]
        source = await find_source(runtime.db, "smsforwarder", name)
        sms = ReceivedSms(
            sender="12366",
            text=LOGIN_SMS.format(code=code),
            identity=f"p{next(_identities)}",
            number=number,
        )
        stored = await runtime.inbox.store(source, Verified(None, ""), [sms])
        assert stored[0].id is not None
        return stored[0].id

    def signed(
        self,
        platform: Platform,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        secret: str | None = None,
        at: datetime | None = None,
        nonce: str | None = None,
    ) -> httpx.Request:
        timestamp = int((at or self.clock.now()).timestamp())
        nonce = nonce or secrets.token_hex(16)
        signature = sign(
            secret or platform.app_secret, method, path, timestamp, nonce, body
        )
        headers = {
            "X-Banshui-Key": platform.app_key,
            "X-Banshui-Timestamp": str(timestamp),
            "X-Banshui-Nonce": nonce,
            "X-Banshui-Signature": signature,
            "Content-Type": "application/json",
        }
        return self.stack.http.build_request(
            method, path, content=body, headers=headers
        )

    def claim_request(
        self,
        platform: Platform,
        number: str = S1,
        after: datetime | None = None,
        wait: float = 0,
    ) -> httpx.Request:
        since = after or self.clock.now() - timedelta(minutes=1)
        body = json.dumps({"after": since.isoformat(), "wait_seconds": wait}).encode()
        return self.signed(platform, "POST", claims_path(number), body)

    async def claim(self, platform: Platform, **options: Any) -> httpx.Response:
        return await self.stack.http.send(self.claim_request(platform, **options))


def claims_path(number: str) -> str:
    return f"/api/v1/provider/numbers/{number}/claims"


@pytest.fixture
async def provider(tmp_path: Path, database_url: str) -> AsyncIterator[Provider]:
    clock = ManualClock(datetime.now(UTC))
    async with running_stack(tmp_path, clock=clock, database_url=database_url) as stack:
        runtime = stack.runtime
        await seed_banshui(runtime)
        platforms = []
        for name, number in (("发票云", S1), ("另一平台", S2)):
            made = await add_customer(runtime.db, runtime.vault, clock, name)
            async with runtime.db.transaction() as session:
                await session.execute(
                    update(Number)
                    .where(Number.msisdn == number)
                    .values(customer_id=made.customer.id)
                )
            platforms.append(Platform(name, made.customer.app_key, made.app_secret))
        yield Provider(stack, clock, platforms[0], platforms[1])
