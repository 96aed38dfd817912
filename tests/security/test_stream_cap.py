"""Server-sent event streams are capped per tenant (API) and per operator
(console): one more is a 429 ``too_many_streams`` with Retry-After, and a stream
gives its place back when it ends, also when its client hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import update

from banshui.core.settings import SettingsError, load_settings
from banshui.core.streams import RETRY_SECONDS, OpenStreams, TooManyStreams
from banshui.demo.cast import A, seed_banshui
from banshui.login.models import LoginRequest
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from conftest import Stack, running_stack
from web.console import Console

CAP = 2
PASSWORD = "Stream-cap-pass-2026"
VIEWER = "赵六"


@dataclass
class Capped:
    """A stack whose tenant may hold two streams, with no engine to end logins."""

    stack: Stack
    tenant_id: int
    api: httpx.AsyncClient  # the tenant's API, with its key
    login_id: str  # a login that stays queued: its stream stays open

    @property
    def tenant(self) -> str:
        return f"tenant:{self.tenant_id}"

    def open_streams(self, holder: str) -> int:
        return self.stack.runtime.streams.count(holder)


@pytest.fixture
async def capped(tmp_path: Path, database_url: str) -> AsyncIterator[Capped]:
    overrides = {"engine": "off", "streams_per_tenant": CAP}
    async with running_stack(tmp_path, database_url=database_url, **overrides) as s:
        seeded = await seed_banshui(s.runtime)
        headers = {"Authorization": f"Bearer {seeded.api_key}"}
        async with httpx.AsyncClient(
            base_url=s.url, headers=headers, timeout=30
        ) as api:
            asked = await api.post(
                "/api/v1/logins", json={"tax_id": A.tax_id, "business": "receive"}
            )
            assert asked.status_code == 202, asked.text
            yield Capped(s, seeded.tenant_id, api, asked.json()["id"])


def events_path(login_id: str) -> str:
    return f"/api/v1/logins/{login_id}/events"


@asynccontextmanager
async def following(
    http: httpx.AsyncClient, path: str
) -> AsyncIterator[httpx.Response]:
    """A stream held open, once its first event has come."""
    async with http.stream("GET", path) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        while not (await anext(lines)).startswith(("event:", "retry:")):
            pass
        yield response


async def one_more(http: httpx.AsyncClient, path: str) -> httpx.Response:
    """A stream past the cap: its answer comes at once, a stream admitted times out."""
    return await http.get(path, timeout=5)


async def until_open(capped: Capped, holder: str, count: int) -> int:
    """The holder's open streams once they are ``count`` (or 5 s have passed)."""
    for _ in range(100):
        if capped.open_streams(holder) == count:
            break
        await asyncio.sleep(0.05)
    return capped.open_streams(holder)


async def hang_up_after_first_event(stack: Stack, path: str, key: str) -> None:
    """A raw client that reads the stream's head and first event, then goes."""
    address = urlsplit(stack.url)
    assert address.hostname is not None and address.port is not None
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {key}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    await reader.readuntil(b"\n\n")  # the login as it is
    writer.close()
    await writer.wait_closed()


async def test_a_tenant_past_its_cap_is_answered_too_many_streams(
    capped: Capped,
) -> None:
    async with AsyncExitStack() as held:
        for _ in range(CAP):
            await held.enter_async_context(
                following(capped.api, events_path(capped.login_id))
            )
        refused = await one_more(capped.api, events_path(capped.login_id))
        still_open = capped.open_streams(capped.tenant)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_streams"
    assert refused.headers["Retry-After"] == str(RETRY_SECONDS)
    assert still_open == CAP


async def test_a_stream_that_ends_gives_its_place_back(capped: Capped) -> None:
    async with capped.stack.runtime.db.transaction() as session:
        await session.execute(
            update(LoginRequest)
            .where(LoginRequest.id == capped.login_id)
            .values(status="failed")
        )

    # A settled login's stream says how it ended and closes.
    for _ in range(CAP + 3):
        answer = await capped.api.get(events_path(capped.login_id))
        assert answer.status_code == 200 and '"status": "failed"' in answer.text

    assert await until_open(capped, capped.tenant, 0) == 0


async def test_a_client_that_hangs_up_gives_its_place_back(capped: Capped) -> None:
    path = events_path(capped.login_id)
    key = capped.api.headers["Authorization"].removeprefix("Bearer ")

    for _ in range(CAP + 3):
        await hang_up_after_first_event(capped.stack, path, key)
    left = await until_open(capped, capped.tenant, 0)
    async with following(capped.api, path), following(capped.api, path):
        full = capped.open_streams(capped.tenant)

    assert left == 0
    assert full == CAP
    assert await until_open(capped, capped.tenant, 0) == 0


async def test_a_stream_closed_by_its_client_lets_another_in(capped: Capped) -> None:
    path = events_path(capped.login_id)
    async with following(capped.api, path):
        async with following(capped.api, path):
            assert (await one_more(capped.api, path)).status_code == 429
        await until_open(capped, capped.tenant, CAP - 1)

        async with following(capped.api, path):
            admitted = capped.open_streams(capped.tenant)

    assert admitted == CAP


async def signed_in_viewer(
    capped: Capped, stack: AsyncExitStack
) -> tuple[Console, str]:
    """A viewer of the tenant, signed in, and the holder their streams count under."""
    runtime = capped.stack.runtime
    viewer = await add_operator(
        runtime.db, runtime.clock, name=VIEWER, password=PASSWORD,
        role=Role.VIEWER, tenant_id=capped.tenant_id, actor="test",
    )  # fmt: skip
    console = await stack.enter_async_context(Console(capped.stack.url))
    assert (await console.sign_in(VIEWER, PASSWORD)).status_code == 303
    return console, f"operator:{viewer.id}"


async def test_a_console_operator_past_the_cap_gets_a_page_with_retry_after(
    capped: Capped,
) -> None:
    async with AsyncExitStack() as held:
        console, _ = await signed_in_viewer(capped, held)
        login_page = f"/logins/{capped.login_id}/stream"
        await held.enter_async_context(following(console.http, "/inbox/stream"))
        await held.enter_async_context(following(console.http, login_page))
        refused = [
            await one_more(console.http, "/inbox/stream"),
            await one_more(console.http, login_page),
        ]
        # The tenant's API keys are another holder, with streams of their own.
        async with following(capped.api, events_path(capped.login_id)):
            api_streams = capped.open_streams(capped.tenant)

    for answer in refused:
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == str(RETRY_SECONDS)
        assert "实时更新页面过多" in answer.text
    assert api_streams == 1


async def test_a_console_stream_given_up_by_its_browser_frees_its_place(
    capped: Capped,
) -> None:
    async with AsyncExitStack() as held:
        console, holder = await signed_in_viewer(capped, held)
        for _ in range(CAP + 2):
            async with following(console.http, "/inbox/stream"):
                assert capped.open_streams(holder) == 1
        left = await until_open(capped, holder, 0)
        async with following(console.http, "/inbox/stream"):
            reopened = capped.open_streams(holder)

    assert left == 0 and reopened == 1


def test_each_holder_has_its_own_cap_and_a_place_goes_back_once() -> None:
    streams = OpenStreams(limit=1)
    first = streams.take("tenant:1")
    other = streams.take("tenant:2")

    with pytest.raises(TooManyStreams):
        streams.take("tenant:1")
    first.give_back()
    first.give_back()
    again = streams.take("tenant:1")

    assert streams.count("tenant:1") == 1 and streams.count("tenant:2") == 1
    other.give_back()
    again.give_back()
    assert streams.count("tenant:1") == 0 and streams.count("tenant:2") == 0


def test_the_cap_is_fifty_streams_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BANSHUI_STREAMS_PER_TENANT", raising=False)
    assert load_settings().streams_per_tenant == 50

    monkeypatch.setenv("BANSHUI_STREAMS_PER_TENANT", "7")
    assert load_settings().streams_per_tenant == 7


@pytest.mark.parametrize("value", ["0", "-3", "many", "2.5"])
def test_a_cap_that_is_no_positive_number_stops_start_up_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BANSHUI_STREAMS_PER_TENANT", value)

    with pytest.raises(SettingsError, match="BANSHUI_STREAMS_PER_TENANT"):
        load_settings()
