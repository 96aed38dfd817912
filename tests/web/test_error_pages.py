"""Pages answer a missing page and a broken one with a page in Chinese; the API,
with its JSON. Nothing of the error reaches the page.

The errors are real: the table a page reads is renamed away for the moment of
the request, so the database itself fails, as on a broken deployment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text

from banshui.runtime import Runtime
from conftest import Sandbox

from .conftest import ON_MODULE_LOOP, Cast
from .console import Console

pytestmark = ON_MODULE_LOOP

# What the error says in either database, and what a stack trace is made of.
LEAKS = (
    "Traceback",
    "sqlalchemy",
    "OperationalError",
    "ProgrammingError",
    "UndefinedTable",
    "no such table",
    "does not exist",
    "_gone",
)


@asynccontextmanager
async def table_gone(runtime: Runtime, name: str) -> AsyncIterator[None]:
    async with runtime.db.transaction() as session:
        await session.execute(text(f"ALTER TABLE {name} RENAME TO {name}_gone"))
    try:
        yield
    finally:
        async with runtime.db.transaction() as session:
            await session.execute(text(f"ALTER TABLE {name}_gone RENAME TO {name}"))


def assert_page(answer: httpx.Response, status: int, title: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in answer.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    for leak in LEAKS:
        assert leak not in answer.text


async def test_a_console_page_that_breaks_is_a_page_in_the_consoles_look(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    bearer = {"authorization": f"Bearer {sandbox.api_key}"}
    async with Console(sandbox.stack.url) as console:
        assert (await console.sign_in(cast.operator, cast.password)).status_code == 303

        async with table_gone(runtime, "enterprises"):
            page = await console.get("/enterprises")
            api = await sandbox.stack.http.get("/api/v1/enterprises", headers=bearer)

        again = await console.get("/enterprises")

    assert_page(page, 500, "服务器出错")
    assert "运营控制台" in page.text
    assert cast.operator in page.text  # still signed in: the menu stays
    assert api.status_code == 500
    assert api.json() == {
        "error": {"code": "internal", "message": "something went wrong on the server"}
    }
    assert again.status_code == 200


async def test_the_query_page_that_breaks_is_a_page_in_its_own_look(
    sandbox: Sandbox,
) -> None:
    form = {"number": "19912340001", "pin": "000000"}

    async with table_gone(sandbox.stack.runtime, "query_refusals"):
        answer = await sandbox.stack.http.post("/query", data=form)

    assert_page(answer, 500, "服务器出错")
    assert 'href="/query"' in answer.text
    assert "运营控制台" not in answer.text


async def test_an_unknown_page_is_a_page_and_an_unknown_api_path_stays_json(
    sandbox: Sandbox,
) -> None:
    http = sandbox.stack.http

    page = await http.get("/enterprises/1/nothing-here")
    query = await http.get("/query/nothing-here")
    api = await http.get("/api/v1/nothing-here")
    hook = await http.get("/hooks/nothing-here")

    assert_page(page, 404, "找不到页面")
    assert "运营控制台" in page.text
    assert_page(query, 404, "找不到页面")
    assert "运营控制台" not in query.text
    for answer in (api, hook):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
