"""A business system lists its tenant's logins: filtered, newest first, by pages.

The server runs without its engine, on a clock that stands still until a test
moves it, so every login stays as it was asked for (``queued``) unless a test
sets its status as the engine would have left it; each test has a tenant of
its own, so the listings of one test never see another's logins.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine, event, update

from banshui.accounts.service import Registry
from banshui.accounts.tenants import add_tenant
from banshui.core.clock import ManualClock
from banshui.demo.cast import A, B
from banshui.login.models import LoginRequest
from conftest import Stack, running_stack
from databases import Databases

from .conftest import ON_MODULE_LOOP
from .shape import assert_error

pytestmark = ON_MODULE_LOOP

LOGINS = "/api/v1/logins"
# 09:00 in Shanghai, as the tests say their windows.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_names = itertools.count(1)


@dataclass
class Desk:
    """The server, its clock, and a way to make a tenant with A and B."""

    stack: Stack
    clock: ManualClock

    async def tenant(self) -> Tenant:
        runtime = self.stack.runtime
        made = await add_tenant(
            runtime.db, runtime.clock, f"列表集团{next(_names)}", actor="test"
        )
        registry = Registry(runtime.db, runtime.vault, runtime.clock)
        for company in (A, B):
            await registry.add_enterprise(made.tenant.id, company.tax_id, company.name)
        http = httpx.AsyncClient(
            base_url=self.stack.url,
            headers={"Authorization": f"Bearer {made.api_key}"},
            timeout=30,
        )
        return Tenant(self, http)


@dataclass
class Tenant:
    """One tenant's key on the API."""

    desk: Desk
    http: httpx.AsyncClient

    async def ask(
        self, tax_id: str = A.tax_id, business: str = "receive", later: float = 1
    ) -> dict[str, Any]:
        """A login asked for ``later`` seconds after the one before."""
        self.desk.clock.advance(later)
        asked = await self.http.post(
            LOGINS, json={"tax_id": tax_id, "business": business}
        )
        assert asked.status_code == 202, asked.text
        login: dict[str, Any] = asked.json()
        return login

    async def listed(self, **params: Any) -> dict[str, Any]:
        answer = await self.http.get(LOGINS, params=params)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"logins", "next_cursor"}
        page: dict[str, Any] = answer.json()
        return page

    async def ids(self, **params: Any) -> list[str]:
        return [login["id"] for login in (await self.listed(**params))["logins"]]

    async def walked(self, **params: Any) -> list[str]:
        """Every page's ids, one page after another, to the last."""
        found: list[str] = []
        cursor = None
        while True:
            page = await self.listed(**params, **({"cursor": cursor} if cursor else {}))
            found += [login["id"] for login in page["logins"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Desk]:
    folder = tmp_path_factory.mktemp("listing")
    clock = ManualClock(START)
    with databases.fresh(folder, databases.migrated) as url:
        async with running_stack(
            folder, clock, database_url=url, engine="off", simulator="off"
        ) as stack:
            yield Desk(stack, clock)


@pytest_asyncio.fixture(loop_scope="module")
async def mine(desk: Desk) -> AsyncIterator[Tenant]:
    made = await desk.tenant()
    async with made.http:
        yield made


@pytest_asyncio.fixture(loop_scope="module")
async def theirs(desk: Desk) -> AsyncIterator[Tenant]:
    made = await desk.tenant()
    async with made.http:
        yield made


async def set_status(desk: Desk, login_id: str, status: str) -> None:
    """As the engine would have left the login."""
    async with desk.stack.runtime.db.transaction() as session:
        await session.execute(
            update(LoginRequest)
            .where(LoginRequest.id == login_id)
            .values(status=status)
        )


def shanghai(hour: int, minute: int = 0, second: int = 0) -> str:
    """A moment of START's day, written as a caller in 深圳 writes it."""
    return f"2026-03-02T{hour:02}:{minute:02}:{second:02}+08:00"


async def test_the_202_of_a_login_request_says_where_the_login_is(
    mine: Tenant,
) -> None:
    asked = await mine.http.post(
        LOGINS, json={"tax_id": A.tax_id, "business": "receive"}
    )

    assert asked.status_code == 202, asked.text
    assert asked.headers["location"] == f"{LOGINS}/{asked.json()['id']}"
    followed = await mine.http.get(asked.headers["location"])
    assert followed.status_code == 200
    assert followed.json() == asked.json()


async def test_logins_are_listed_newest_first_each_as_it_is_read_alone(
    mine: Tenant,
) -> None:
    asked = [await mine.ask(A.tax_id), await mine.ask(B.tax_id, "issue")]
    asked.append(await mine.ask(A.tax_id, later=0))  # the same instant as B's

    listed = (await mine.listed())["logins"]

    newest_first = sorted(
        asked, key=lambda login: (login["created_at"], login["id"]), reverse=True
    )
    assert [login["id"] for login in listed] == [login["id"] for login in newest_first]
    for login in listed:
        alone = await mine.http.get(f"{LOGINS}/{login['id']}")
        assert login == alone.json()


async def test_a_key_lists_only_its_own_tenants_logins(
    mine: Tenant, theirs: Tenant
) -> None:
    my_ids = {(await mine.ask(A.tax_id))["id"], (await mine.ask(B.tax_id))["id"]}
    # The other tenant has an enterprise of the same tax id, and logins for it.
    their_ids = {(await theirs.ask(A.tax_id))["id"] for _ in range(3)}

    assert set(await mine.walked(limit=1)) == my_ids
    assert set(await theirs.walked(limit=1)) == their_ids
    assert set(await mine.ids(tax_id=A.tax_id)) <= my_ids
    assert set(await theirs.ids(tax_id=B.tax_id)) == set()


async def test_a_cursor_of_another_tenant_shows_only_the_keys_own_logins(
    mine: Tenant, theirs: Tenant
) -> None:
    for _ in range(3):
        await mine.ask()
    cursor = (await mine.listed(limit=1))["next_cursor"]
    their_id = (await theirs.ask(later=-60))["id"]  # older than the cursor

    assert await theirs.ids(cursor=cursor) == [their_id]


async def test_the_status_filter_takes_one_status_or_several(mine: Tenant) -> None:
    queued, succeeded, waiting, failed = [(await mine.ask())["id"] for _ in range(4)]
    await set_status(mine.desk, succeeded, "succeeded")
    await set_status(mine.desk, waiting, "waiting_code")
    await set_status(mine.desk, failed, "failed")

    assert await mine.ids(status="succeeded") == [succeeded]
    assert await mine.ids(status=["succeeded", "waiting_code"]) == [waiting, succeeded]
    assert await mine.ids(status=["queued", "failed"]) == [failed, queued]
    assert await mine.ids(status="expired") == []


async def test_the_tax_id_and_business_filters_each_narrow_the_list(
    mine: Tenant,
) -> None:
    a_receive = (await mine.ask(A.tax_id, "receive"))["id"]
    a_issue = (await mine.ask(A.tax_id, "issue"))["id"]
    b_receive = (await mine.ask(B.tax_id, "receive"))["id"]

    assert await mine.ids(tax_id=A.tax_id) == [a_issue, a_receive]
    assert await mine.ids(tax_id=B.tax_id) == [b_receive]
    assert await mine.ids(business="receive") == [b_receive, a_receive]
    assert await mine.ids(business="issue") == [a_issue]
    assert await mine.ids(tax_id=A.tax_id, business="receive") == [a_receive]


async def test_the_time_window_takes_its_start_and_leaves_out_its_end(
    mine: Tenant,
) -> None:
    mine.desk.clock.set(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 in 深圳
    ten = (await mine.ask(later=0))["id"]
    eleven = (await mine.ask(later=3600))["id"]
    noon = (await mine.ask(later=3600))["id"]

    window = {"created_after": shanghai(10), "created_before": shanghai(12)}
    assert await mine.ids(**window) == [eleven, ten]
    assert await mine.ids(created_after=shanghai(10, 0, 1)) == [noon, eleven]
    assert await mine.ids(created_before=shanghai(11)) == [ten]
    # The same moment with another offset is the same window.
    assert await mine.ids(created_after="2026-03-02T03:00:00Z") == [noon, eleven]


async def test_a_plus_left_unencoded_in_the_offset_is_still_read_as_one(
    mine: Tenant,
) -> None:
    mine.desk.clock.set(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # 12:00 in 深圳
    noon = (await mine.ask(later=0))["id"]

    answer = await mine.http.get(f"{LOGINS}?created_after=2026-03-02T11:00:00+08:00")

    assert answer.status_code == 200, answer.text
    assert [login["id"] for login in answer.json()["logins"]] == [noon]


async def test_pages_lose_and_repeat_nothing_while_new_logins_are_created(
    mine: Tenant,
) -> None:
    older = [(await mine.ask())["id"] for _ in range(5)][::-1]

    first = await mine.listed(limit=2)
    newer = [(await mine.ask())["id"] for _ in range(2)]
    second = await mine.listed(limit=2, cursor=first["next_cursor"])
    newer.append((await mine.ask())["id"])
    third = await mine.listed(limit=2, cursor=second["next_cursor"])

    pages = [first, second, third]
    assert [[login["id"] for login in page["logins"]] for page in pages] == [
        older[0:2],
        older[2:4],
        older[4:5],
    ]
    assert third["next_cursor"] is None
    assert await mine.ids(limit=3) == newer[::-1]


async def test_logins_of_the_same_instant_are_paged_one_by_one_without_loss(
    mine: Tenant,
) -> None:
    tied = {(await mine.ask(later=0))["id"] for _ in range(4)}

    walked = await mine.walked(limit=1)

    assert walked == sorted(tied, reverse=True)


async def test_filters_hold_on_every_page(mine: Tenant) -> None:
    receiving = [(await mine.ask(business="receive"))["id"] for _ in range(3)]
    for _ in range(3):
        await mine.ask(business="issue")

    assert await mine.walked(business="receive", limit=1) == receiving[::-1]


async def test_a_page_holds_50_by_default_and_up_to_200_when_asked(
    mine: Tenant,
) -> None:
    asked = [(await mine.ask())["id"] for _ in range(51)][::-1]

    default = await mine.listed()
    rest = await mine.listed(cursor=default["next_cursor"])
    widest = await mine.listed(limit=200)

    assert [login["id"] for login in default["logins"]] == asked[:50]
    assert [login["id"] for login in rest["logins"]] == asked[50:]
    assert rest["next_cursor"] is None
    assert [login["id"] for login in widest["logins"]] == asked
    assert widest["next_cursor"] is None


@contextmanager
def statements_on(table: str) -> Iterator[list[str]]:
    """The SQL statements run meanwhile that name ``table``, in any thread."""
    seen: list[str] = []
    lock = threading.Lock()

    def note(*args: Any) -> None:
        statement = str(args[2])
        if table in statement:
            with lock:
                seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


async def test_a_page_of_twenty_logins_is_read_in_one_query(mine: Tenant) -> None:
    for _ in range(20):
        await mine.ask()

    with statements_on("login_requests") as seen:
        page = await mine.listed(limit=20)

    assert len(page["logins"]) == 20
    assert len(seen) == 1, seen


def _cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


# Cursors of the right encoding, but not of a place: no time, no offset.
NO_TIME = _cursor_of('["yesterday", "00000000000000000000000000000000"]')
NO_OFFSET = _cursor_of('["2026-03-02T01:00:00", "00000000000000000000000000000000"]')


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("status=succeeded&status=Succeeded", "status"),
        ("tax_id=91440300MA5FA0010X", "tax_id"),
        ("business=sell", "business"),
        ("created_after=2026-03-02T09:00:00", "created_after"),
        ("created_after=2026-03-02", "created_after"),
        ("created_before=1772413200", "created_before"),
        ("created_before=yesterday", "created_before"),
        (
            "created_after=2026-03-02T10:00:00%2B08:00"
            "&created_before=2026-03-02T02:00:00Z",
            "created_before",
        ),
        ("created_after=9999-12-31T23:00:00-05:00", "created_after"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        (f"cursor={NO_TIME}", "cursor"),
        (f"cursor={NO_OFFSET}", "cursor"),
        ("statuses=succeeded", "statuses"),
    ],
)
async def test_a_bad_query_value_is_a_422_naming_its_parameter(
    mine: Tenant, query: str, field: str
) -> None:
    answer = await mine.http.get(f"{LOGINS}?{query}")

    assert_error(answer, 422, "invalid", field)


async def test_listing_without_a_key_is_a_401(desk: Desk) -> None:
    answer = await desk.stack.http.get(f"{LOGINS}?limit=0")

    assert_error(answer, 401, "unauthorized")
