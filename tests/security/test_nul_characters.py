"""A NUL (or, in a path, any control character) is refused in the one error shape.

PostgreSQL cannot store a NUL in text, and no id, name or URL holds one: a body
string with a NUL is a 422 naming its field, a path with a control character
names nothing (404), a query parameter with a NUL is a 422 naming it, and a
console form with one is a refusal page. None is a 500, on either database;
nothing refused is written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.shape import assert_error
from banshui.demo.cast import S1
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from security.conftest import World
from security.wire import banshui_signed
from web.console import Console

pytestmark = pytest.mark.asyncio(loop_scope="module")

NUL = "\x00"
# A valid 统一社会信用代码 in 深圳 that the demo cast does not use.
SPARE_TAX_ID = "91440300MA5FE0050Q"
HOOK = "https://erp.example.com/banshui"
OPERATOR, PASSWORD = "控制符管理员", "Nul-checks-pass-2026"


def auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.api_key}"}


async def listings(world: World) -> list[Any]:
    """What a refused request must not change: the tenant's registry and hooks."""
    found = []
    for path in ("/api/v1/enterprises", "/api/v1/persons", "/api/v1/webhooks"):
        answer = await world.http.get(path, headers=auth(world))
        assert answer.status_code == 200, answer.text
        found.append(answer.json())
    return found


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/enterprises", {"tax_id": SPARE_TAX_ID, "name": f"甲{NUL}乙"}, "name"),
        ("/api/v1/enterprises", {"tax_id": f"9144{NUL}", "name": "甲乙"}, "tax_id"),
        (
            "/api/v1/persons",
            {"name": f"张{NUL}九", "id_number": "44030519900101123X", "password": "p"},
            "name",
        ),
        (
            "/api/v1/persons",
            {"name": "张九", "id_number": "44030519900101123X", "password": f"p{NUL}"},
            "password",
        ),
        ("/api/v1/webhooks", {"url": f"{HOOK}/{NUL}", "events": ["login.*"]}, "url"),
        ("/api/v1/webhooks", {"url": HOOK, "events": [f"login.{NUL}"]}, "events"),
        (
            "/api/v1/logins",
            {"tax_id": f"91440300MA5FA00{NUL}", "business": "receive"},
            "tax_id",
        ),
    ],
    ids=[
        "enterprise-name",
        "tax-id",
        "person-name",
        "person-password",
        "webhook-url",
        "webhook-event",
        "login-tax-id",
    ],
)
async def test_a_body_string_holding_a_nul_is_a_422_naming_its_field(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    before = await listings(world)

    answer = await world.http.post(path, json=body, headers=auth(world))

    error = assert_error(answer, 422, "invalid", field)
    assert "NUL" in error["message"]
    assert await listings(world) == before


async def test_a_nul_in_a_provider_body_is_a_422_naming_its_field(
    world: World,
) -> None:
    path = "/api/v1/provider/sources"
    source = {"kind": "generic", "name": "nul-provider", "secret": "s" * 32}
    url = f"https://gateway.example.com/{NUL}"
    body = json.dumps({**source, "number": S1, "public_url": url}).encode()
    signed = banshui_signed(
        "POST", world.stack.url + path, world.app_key, world.app_secret, body
    )

    answer = await world.http.post(path, content=body, headers=signed.headers)

    assert_error(answer, 422, "invalid", "public_url")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/enterprises/%00"),
        ("GET", f"/api/v1/enterprises/{SPARE_TAX_ID}%00/accounts"),
        ("GET", "/api/v1/logins/%00"),
        ("POST", "/api/v1/logins/%00/release"),
        ("GET", "/api/v1/webhooks/%00"),
        ("DELETE", "/api/v1/webhooks/%00"),
        ("POST", "/hooks/sms/generic/a%00b"),
        ("POST", "/api/v1/provider/sources/%00"),
        ("GET", "/api/v1/enterprises/a%01b"),
        ("GET", "/api/v1/logins/%1B%5B2J"),
    ],
)
async def test_a_path_holding_a_control_character_is_a_404_in_the_error_shape(
    world: World, method: str, path: str
) -> None:
    answer = await world.http.request(method, path, headers=auth(world), json={})

    assert_error(answer, 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/forwards?status=%00",
        "/api/v1/logins?status=succeeded&status=%00",
        f"/api/v1/webhooks/{'0' * 32}/deliveries?limit=1&status=due%00",
    ],
)
async def test_a_query_parameter_holding_a_nul_is_a_422_naming_it(
    world: World, path: str
) -> None:
    answer = await world.http.get(path, headers=auth(world))

    assert_error(answer, 422, "invalid", "status")


async def test_a_query_parameter_may_hold_a_line_break(world: World) -> None:
    # Text in a query (an SMS a gateway sends by GET) has its line breaks.
    answer = await world.http.get("/api/v1/forwards?status=due%0A", headers=auth(world))

    # Refused by the route for what the value is, not for the character.
    error = assert_error(answer, 422, "invalid", "status")
    assert "NUL" not in error["message"]


@pytest.mark.parametrize(
    "path", ["/logins/%00", "/enterprises/%00/accounts/new", "/login?next=%2F%00"]
)
async def test_a_page_address_holding_a_control_character_is_the_404_page(
    world: World, path: str
) -> None:
    answer = await world.http.get(path)

    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "找不到页面" in answer.text


async def test_signing_in_with_a_nul_in_the_name_is_a_refusal_page(
    world: World,
) -> None:
    async with Console(world.stack.url) as console:
        answer = await console.sign_in(f"王{NUL}五", "whatever-password")

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "输入有误" in answer.text and "NUL" in answer.text


async def test_a_console_form_with_a_nul_is_refused_and_writes_nothing(
    world: World,
) -> None:
    runtime = world.stack.runtime
    await add_operator(
        runtime.db, runtime.clock, name=OPERATOR, password=PASSWORD,
        role=Role.ADMIN, tenant_id=world.tenant_id, actor="test",
    )  # fmt: skip
    before = await listings(world)

    async with Console(world.stack.url) as console:
        assert (await console.sign_in(OPERATOR, PASSWORD)).status_code == 303
        answer = await console.post(
            "/enterprises/new", {"tax_id": SPARE_TAX_ID, "name": f"甲{NUL}乙"}
        )

    assert answer.status_code == 422, answer.text
    assert "名称含有不可见的 NUL 字符" in answer.text
    assert await listings(world) == before


async def test_the_query_page_refuses_a_nul_without_a_500(world: World) -> None:
    answer = await world.http.post(
        "/query", data={"number": f"1991234{NUL}0001", "pin": f"12{NUL}34"}
    )

    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("text/html")
