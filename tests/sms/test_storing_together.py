"""SMS posted at the same moment: committed together, each request as if alone."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from banshui.demo.cast import S1, S2
from banshui.sms.models import InboundSms, Source
from banshui.sms.sources import add_source
from conftest import Stack

SECRET = "zhangsan-redmi-7f3a9c1e"
SENDER = "12366"
_STAMPS = itertools.count(1)


def login_sms(code: str) -> str:
    return f"【中国税务】您的登录验证码：{code}，请确认是本人操作。"


def sign(timestamp: int) -> str:
    message = f"{timestamp}\n{SECRET}".encode()
    digest = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
    return quote(base64.b64encode(digest).decode(), safe="")


def signed_form(text: str, stamp: int | None = None) -> dict[str, str]:
    """SmsForwarder's form; every SMS its own timestamp unless one is given."""
    sent = stamp if stamp is not None else int(time.time() * 1000) + next(_STAMPS)
    return {"from": SENDER, "content": text, "timestamp": str(sent), "sign": sign(sent)}


@dataclass(frozen=True)
class Phone:
    """A phone running SmsForwarder for one number."""

    source: Source
    hook: str


async def phone_for(stack: Stack, number: str) -> Phone:
    runtime = stack.runtime
    # Named by its last two digits: a source's name is a label on /metrics,
    # and no whole number is to stand there.
    name = f"phone-{number[-2:]}"
    source = await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=name,
        secret=SECRET,
        number=number,
        actor="test",
    )
    return Phone(source, f"/hooks/sms/smsforwarder/{name}")


@pytest.fixture
async def phone(stack: Stack) -> Phone:
    return await phone_for(stack, S1)


async def post_all(
    stack: Stack, phone: Phone, forms: list[dict[str, str]]
) -> list[httpx.Response]:
    """Every form posted at once, each on its own request."""
    return list(
        await asyncio.gather(*(stack.http.post(phone.hook, data=f) for f in forms))
    )


async def stored_codes(stack: Stack, phone: Phone) -> list[str | None]:
    async with stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(InboundSms.code)
            .where(InboundSms.source_id == phone.source.id)
            .order_by(InboundSms.code)
        )
        return list(rows)


async def test_sms_posted_at_once_are_each_stored_once_and_each_acknowledged(
    stack: Stack, phone: Phone
) -> None:
    codes = [f"{400000 + index}" for index in range(24)]

    answers = await post_all(stack, phone, [signed_form(login_sms(c)) for c in codes])

    assert [a.status_code for a in answers] == [200] * len(codes)
    assert [a.json()["stored"] for a in answers] == [1] * len(codes)
    assert await stored_codes(stack, phone) == codes


async def test_a_replay_among_sms_posted_at_once_is_refused_alone(
    stack: Stack, phone: Phone
) -> None:
    used = signed_form(login_sms("111111"))
    assert (await stack.http.post(phone.hook, data=used)).status_code == 200
    replay = signed_form(login_sms("999999"), stamp=int(used["timestamp"]))
    fresh = [signed_form(login_sms(f"{500000 + index}")) for index in range(8)]

    answers = await post_all(stack, phone, [*fresh[:4], replay, *fresh[4:]])

    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 4 + [401] + [200] * 4
    expected = ["111111", *(f"{500000 + index}" for index in range(8))]
    assert await stored_codes(stack, phone) == expected


async def test_the_same_request_sent_twice_at_once_is_stored_once_and_acked_twice(
    stack: Stack, phone: Phone
) -> None:
    twice = signed_form(login_sms("246810"))

    answers = await post_all(stack, phone, [twice, twice])

    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["stored"] for a in answers) == [0, 1]
    assert await stored_codes(stack, phone) == ["246810"]


async def test_codes_arriving_together_each_reach_the_login_waiting_for_them(
    stack: Stack,
) -> None:
    inbox = stack.runtime.inbox
    phones = [await phone_for(stack, S1), await phone_for(stack, S2)]
    waits = [
        await inbox.expect_code(S1, "login-s1"),
        await inbox.expect_code(S2, "login-s2"),
    ]

    answers = await asyncio.gather(
        stack.http.post(phones[0].hook, data=signed_form(login_sms("130001"))),
        stack.http.post(phones[1].hook, data=signed_form(login_sms("230002"))),
    )

    assert [answer.status_code for answer in answers] == [200, 200]
    assert await inbox.wait_for_code(waits[0], 5) == "130001"
    assert await inbox.wait_for_code(waits[1], 5) == "230002"
