"""A long SMS (长短信) in parts, through the generic webhook of the real app."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from banshui.demo.cast import S1
from banshui.sms.models import InboundSms, Source
from banshui.sms.parts_models import LongSmsPart
from banshui.sms.sources import add_source
from conftest import Stack, running_stack, stack_on_a_fresh_database
from databases import Databases

pytestmark = pytest.mark.asyncio(loop_scope="module")
_SOURCES = itertools.count(1)

SECRET = "qixiangyun-generic-secret-91c4"
WHOLE = (
    "【国家税务总局深圳市税务局】您正在登录电子税务局，"
    "您的登录验证码：418207，请确认是本人操作，5分钟内有效。"
    "如非本人操作，请忽略本短信，切勿将验证码告知他人。"
)
PARTS = [WHOLE[:30], WHOLE[30:60], WHOLE[60:]]


@dataclass(frozen=True)
class Provider:
    """A provider of sub-numbers posting S1's SMS in banshui's generic format."""

    source: Source
    url: str

    async def send(
        self,
        stack: Stack,
        index: int,
        total: int = 3,
        ref: str = "long-1",
        code: str = "418207",
    ) -> httpx.Response:
        # Another code keeps the SMS from being a copy of one this module sent.
        parts = [part.replace("418207", code) for part in PARTS]
        body = {
            "id": f"{ref}-part-{index}",
            "number": S1,
            "sender": "12366",
            "text": parts[index - 1],
            "sent_at": "2026-03-14T10:00:01+08:00",
            "part": {"ref": ref, "index": index, "total": total},
        }
        return await self.post(stack, body)

    async def post(self, stack: Stack, body: dict[str, Any]) -> httpx.Response:
        raw = json.dumps(body).encode()
        return await stack.http.post(self.url, content=raw, headers=self.signed(raw))

    def signed(self, body: bytes) -> dict[str, str]:
        stamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
        path = "/" + self.url.split("/", 3)[3]
        digest = hashlib.sha256(body).hexdigest()
        canonical = f"POST\n{path}\n{stamp}\n{nonce}\n{digest}".encode()
        signature = hmac.new(SECRET.encode(), canonical, "sha256").hexdigest()
        return {
            "content-type": "application/json",
            "x-banshui-key": self.source.name,
            "x-banshui-timestamp": stamp,
            "x-banshui-nonce": nonce,
            "x-banshui-signature": signature,
        }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("long-sms")
    async with stack_on_a_fresh_database(databases, folder) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def provider(stack: Stack) -> Provider:
    runtime = stack.runtime
    name = f"qixiangyun-{next(_SOURCES)}"
    source = await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="generic",
        name=name,
        secret=SECRET,
        actor="test",
    )
    return Provider(source, f"{stack.url}/hooks/sms/generic/{name}")


async def stored(stack: Stack, provider: Provider) -> list[InboundSms]:
    async with stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(InboundSms).where(InboundSms.source_id == provider.source.id)
        )
        return list(rows)


async def parts_kept(stack: Stack) -> int:
    async with stack.runtime.db.session() as session:
        count = await session.scalar(select(func.count()).select_from(LongSmsPart))
    return int(count or 0)


async def test_three_parts_arriving_as_3_1_2_are_stored_as_one_sms_with_its_code(
    stack: Stack, provider: Provider
) -> None:
    early = [await provider.send(stack, index) for index in (3, 1)]
    before_the_last = await stored(stack, provider)
    last = await provider.send(stack, 2)

    assert [answer.json()["stored"] for answer in [*early, last]] == [0, 0, 1]
    assert before_the_last == []
    [sms] = await stored(stack, provider)
    assert sms.text == WHOLE
    assert (sms.code, sms.kind, sms.number) == ("418207", "bureau_login", S1)


async def test_a_part_sent_again_after_its_sms_was_joined_changes_nothing(
    stack: Stack, provider: Provider
) -> None:
    for index in (1, 2, 3):
        await provider.send(stack, index)

    again = await provider.send(stack, 2)

    assert again.status_code == 200
    assert again.json()["stored"] == 0
    [sms] = await stored(stack, provider)
    assert sms.text == WHOLE


async def test_a_duplicate_part_before_the_end_is_ignored(
    stack: Stack, provider: Provider
) -> None:
    await provider.send(stack, 1)
    duplicate = await provider.send(stack, 1)
    await provider.send(stack, 3)
    await provider.send(stack, 2)

    assert duplicate.status_code == 200
    [sms] = await stored(stack, provider)
    assert sms.text == WHOLE


async def test_the_parts_of_a_joined_sms_are_not_kept(
    stack: Stack, provider: Provider
) -> None:
    await provider.send(stack, 1, ref="tidy")
    kept_while_waiting = await parts_kept(stack)
    for index in (2, 3):
        await provider.send(stack, index, ref="tidy")

    assert kept_while_waiting >= 1
    assert await parts_kept(stack) == kept_while_waiting - 1


async def test_a_part_that_disagrees_on_the_total_is_refused_and_stores_nothing(
    stack: Stack, provider: Provider
) -> None:
    await provider.send(stack, 1, total=3)

    answer = await provider.send(stack, 2, total=4)

    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "part.total"
    await provider.send(stack, 2)
    await provider.send(stack, 3)
    [sms] = await stored(stack, provider)
    assert sms.text == WHOLE


async def test_the_joined_sms_wakes_the_login_waiting_for_its_code(
    stack: Stack, provider: Provider
) -> None:
    inbox = stack.runtime.inbox
    expectation = await inbox.expect_code(S1, "test-waiter")
    waiting = asyncio.create_task(inbox.wait_for_code(expectation, 10))

    for index in (2, 3, 1):
        await provider.send(stack, index, ref=f"login-{expectation}", code="730162")

    assert await waiting == "730162"


async def test_parts_are_kept_durably_across_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    async with running_stack(tmp_path, database_url=database_url) as first:
        source = await add_source(
            first.runtime.db,
            first.runtime.vault,
            first.runtime.clock,
            kind="generic",
            name="qixiangyun-restart",
            secret=SECRET,
            actor="test",
        )
        for index in (1, 3):
            await Provider(source, _url(first, source)).send(first, index)

    async with running_stack(tmp_path, database_url=database_url) as second:
        provider = Provider(source, _url(second, source))
        await provider.send(second, 2)

        [sms] = await stored(second, provider)
        assert sms.text == WHOLE


@pytest.mark.postgresql_only
async def test_the_last_two_parts_arriving_at_once_are_joined_once_on_postgresql(
    tmp_path: Path, database_url: str
) -> None:
    async with running_stack(tmp_path, database_url=database_url) as pg:
        runtime = pg.runtime
        name = f"qixiangyun-race-{secrets.token_hex(4)}"
        source = await add_source(
            runtime.db,
            runtime.vault,
            runtime.clock,
            kind="generic",
            name=name,
            secret=SECRET,
            actor="test",
        )
        provider = Provider(source, _url(pg, source))

        for attempt in range(20):
            ref = f"race-{attempt}"
            await provider.send(pg, 1, ref=ref)
            # Without a lock, each of the last two sees only its own part.
            last = await asyncio.gather(
                provider.send(pg, 2, ref=ref), provider.send(pg, 3, ref=ref)
            )
            assert [answer.status_code for answer in last] == [200, 200]

        rows = await stored(pg, provider)
        assert [row.text for row in rows] == [WHOLE] * 20


def _url(stack: Stack, source: Source) -> str:
    return f"{stack.url}/hooks/sms/generic/{source.name}"
