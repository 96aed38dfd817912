"""One tenant, one customer reaches nothing of another: every route, not a sample.

Tenant 示例集团 (A) has the demo cast, a login, a webhook with a delivery, a
forward, an operator; customer 发票云 holds S1 and a gateway. Tenant 乙集团 (B),
its admin in the console and customer 另一平台 then try every route of the
app against A's things, each as its rightful caller would: B's API key, B's
console session, the other customer's signature. Each answer is a refusal that
tells nothing (a 404, or a listing without A in it), and at the end nothing of
A has changed.

The routes are read from the app itself: a route that is neither in ``TRIALS``
nor in ``OPEN`` (with the reason it holds no tenant's data) fails the first
test, so a new route cannot go untried. tests/api/test_tenant_isolation.py,
tests/registry/test_tenant_isolation.py and tests/web/test_roles.py look at
parts of this in more depth.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi.routing import iter_route_contexts
from sqlalchemy import Connection, MetaData, select, update
from starlette.routing import Mount

from banshui.accounts.models import Account, Enterprise, Person
from banshui.accounts.tenants import add_tenant
from banshui.demo.cast import COMPANIES, LI_SI, S1, S2, S3, TENANT, ZHANG_SAN, A
from banshui.forwarding.setup import add_channel, add_route
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from banshui.sms.sources import add_source
from databases import Databases
from security.conftest import World, world_on
from security.wire import banshui_signed, smsforwarder
from web.console import Console, csrf_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "Isolation-pass-2026"
OTHER_TAX_ID = "91110108MA01C0A0XC"
CONSOLE_TAX_ID = "91110108MA01C0B0X2"
# A form's example value is no one's data.
PLACEHOLDER = re.compile(r' placeholder="[^"]*"')


@dataclass
class Sides:
    """A's things by id, and B's ways in."""

    world: World
    a: dict[str, Any]
    key_b: str
    b_person: int
    customer_b: tuple[str, str]
    console: Console
    before: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    @property
    def markers(self) -> list[str]:
        """What of A must never reach B: names, tax ids, numbers, ids."""
        return [
            TENANT,
            ZHANG_SAN.name,
            LI_SI.name,
            *(company.tax_id for company in COMPANIES),
            S1,
            S2,
            S3,
            str(self.a["login"]),
            str(self.a["webhook"]),
            "甲管理员",
        ]

    def assert_nothing_of_a(self, answer: httpx.Response) -> None:
        """Nothing of A in the answer but what the caller sent itself."""
        assert answer.status_code < 500, (answer.request.url, answer.text[:300])
        request = answer.request
        sent = str(request.url) + request.content.decode(errors="replace")
        text = PLACEHOLDER.sub("", answer.text)
        shown = [m for m in self.markers if m in text and m not in sent]
        assert shown == [], (answer.request.url, shown)


Trial = Callable[[Sides], Awaitable[None]]


def api(method: str, path: str, body: Any = None, status: int = 404) -> Trial:
    """B's key on a path naming A's things: refused as if they did not exist."""

    async def trial(sides: Sides) -> None:
        answer = await sides.world.http.request(
            method,
            path.format(**sides.a),
            json=body(sides) if callable(body) else body,
            headers={"authorization": f"Bearer {sides.key_b}"},
        )
        assert answer.status_code == status, (path, answer.text)
        if status == 404:
            assert answer.json()["error"]["code"] == "not_found"
        sides.assert_nothing_of_a(answer)

    return trial


def provider(method: str, path: str, body: Any = None, status: int = 404) -> Trial:
    """The other customer's signed request for A's number."""

    async def trial(sides: Sides) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        url = sides.world.stack.url + path.format(**sides.a)
        key, secret = sides.customer_b
        signed = banshui_signed(method, url, key, secret, raw)
        answer = await sides.world.send(signed)
        assert answer.status_code == status, (path, answer.text)
        sides.assert_nothing_of_a(answer)

    return trial


def page(method: str, path: str, form: dict[str, str] | None = None) -> Trial:
    """B's admin in the console: a page or a form naming A's things."""

    async def trial(sides: Sides) -> None:
        url = path.format(**sides.a)
        if method == "GET":
            answer = await sides.console.get(url)
        else:
            filled = {k: v.format(**sides.a) for k, v in (form or {}).items()}
            answer = await sides.console.post(url, filled)
        assert answer.status_code in (200, 303, 403, 404, 422), (url, answer.text)
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/"), url
        sides.assert_nothing_of_a(answer)

    return trial


async def inbox_stream(sides: Sides) -> None:
    """B's live inbox hears nothing of an SMS that reaches A's number."""
    door = sides.world.doors["smsforwarder"]
    received = b""
    async with sides.console.http.stream("GET", "/inbox/stream") as stream:
        assert stream.status_code == 200
        await sides.world.send(smsforwarder(door.url, door.secret, "【测试】甲的短信"))
        try:
            async with asyncio.timeout(2.5):
                async for chunk in stream.aiter_bytes():
                    received += chunk
        except TimeoutError:
            pass
    assert "甲的短信" not in received.decode(errors="replace")
    assert S1 not in received.decode(errors="replace")


async def numbers(sides: Sides) -> None:
    """B gives a number to A's person, and takes A's number for its own."""
    path = "/api/v1/persons/{person}/numbers"
    await api("POST", path, {"number": "19912348888"})(sides)
    taken = api("POST", "/api/v1/persons/{b_person}/numbers", {"number": S1}, 409)
    await taken(sides)


async def metrics(sides: Sides) -> None:
    sides.assert_nothing_of_a(await sides.world.http.get("/metrics"))


LOGIN = "/api/v1/logins/{login}"
HOOK = "/api/v1/webhooks/{webhook}"
ACCOUNTS = "/api/v1/enterprises/{tax_id}/accounts"
NEW_ACCOUNT = {
    "login_type": "sub_number",
    "account": S1,
    "identity_code": "03",
    "default_business": "receive",
}

TRIALS: dict[tuple[str, str], Trial] = {
    ("POST", "/api/v1/logins"): api(
        "POST", "/api/v1/logins", {"tax_id": A.tax_id, "business": "receive"}, 422
    ),
    ("GET", "/api/v1/logins"): api("GET", "/api/v1/logins", status=200),
    ("GET", "/api/v1/logins/{login_id}"): api("GET", LOGIN),
    ("GET", "/api/v1/logins/{login_id}/timeline"): api("GET", LOGIN + "/timeline"),
    ("GET", "/api/v1/logins/{login_id}/events"): api("GET", LOGIN + "/events"),
    ("GET", "/api/v1/logins/{login_id}/session"): api("GET", LOGIN + "/session"),
    ("POST", "/api/v1/logins/{login_id}/release"): api("POST", LOGIN + "/release"),
    ("POST", "/api/v1/logins/{login_id}/code"): api(
        "POST", LOGIN + "/code", {"code": "418207"}
    ),
    ("GET", "/api/v1/forwards"): api("GET", "/api/v1/forwards", status=200),
    ("POST", "/api/v1/enterprises"): api(
        "POST",
        "/api/v1/enterprises",
        {"tax_id": OTHER_TAX_ID, "name": "乙集团的企业"},
        201,
    ),
    ("GET", "/api/v1/enterprises"): api("GET", "/api/v1/enterprises", status=200),
    ("GET", "/api/v1/enterprises/{tax_id}"): api("GET", "/api/v1/enterprises/{tax_id}"),
    ("GET", "/api/v1/enterprises/{tax_id}/accounts"): api("GET", ACCOUNTS),
    ("POST", "/api/v1/enterprises/{tax_id}/accounts"): api(
        "POST", ACCOUNTS, NEW_ACCOUNT
    ),
    ("PATCH", "/api/v1/enterprises/{tax_id}/accounts/{account_id}"): api(
        "PATCH", ACCOUNTS + "/{account}", {"is_default": True}
    ),
    ("DELETE", "/api/v1/enterprises/{tax_id}/accounts/{account_id}"): api(
        "DELETE", ACCOUNTS + "/{account}"
    ),
    ("GET", "/api/v1/accounts/{account_id}"): api("GET", "/api/v1/accounts/{account}"),
    ("POST", "/api/v1/persons"): api(
        "POST",
        "/api/v1/persons",
        {"name": "乙的人", "id_number": ZHANG_SAN.id_number, "password": "b-pass-1"},
        201,
    ),
    ("GET", "/api/v1/persons"): api("GET", "/api/v1/persons", status=200),
    ("GET", "/api/v1/persons/{person_id}"): api("GET", "/api/v1/persons/{person}"),
    ("PUT", "/api/v1/persons/{person_id}/password"): api(
        "PUT", "/api/v1/persons/{person}/password", {"password": "stolen-1"}, 404
    ),
    ("POST", "/api/v1/persons/{person_id}/numbers"): numbers,
    ("POST", "/api/v1/webhooks"): api(
        "POST",
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/b", "events": ["account.*"]},
        201,
    ),
    ("GET", "/api/v1/webhooks"): api("GET", "/api/v1/webhooks", status=200),
    ("GET", "/api/v1/webhooks/{webhook_id}"): api("GET", HOOK),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): api("DELETE", HOOK),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): api(
        "GET", HOOK + "/deliveries"
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): api(
        "POST", HOOK + "/deliveries/{delivery}/retry"
    ),
    ("POST", "/api/v1/provider/numbers/{number}/claims"): provider(
        "POST",
        "/api/v1/provider/numbers/{msisdn}/claims",
        {"after": "2026-01-01T00:00:00+08:00"},
    ),
    ("GET", "/api/v1/provider/numbers/{number}/sms"): provider(
        "GET", "/api/v1/provider/numbers/{msisdn}/sms"
    ),
    ("POST", "/api/v1/provider/sources"): provider(
        "POST",
        "/api/v1/provider/sources",
        {
            "kind": "generic",
            "name": "b-steals-s1",
            "secret": "b-steals-s1-secret-0001",
            "number": S1,
        },
    ),
    ("GET", "/api/v1/provider/sources"): provider(
        "GET", "/api/v1/provider/sources", status=200
    ),
    ("GET", "/metrics"): metrics,
    ("GET", "/"): page("GET", "/"),
    ("GET", "/enterprises"): page("GET", "/enterprises"),
    ("GET", "/enterprises/new"): page("GET", "/enterprises/new"),
    ("POST", "/enterprises/new"): page(
        "POST",
        "/enterprises/new",
        {"tax_id": CONSOLE_TAX_ID, "name": "乙的新企业", "tenant_id": "{tenant_a}"},
    ),
    ("POST", "/enterprises/{enterprise_id}/default"): page(
        "POST", "/enterprises/{enterprise}/default", {"account_id": "{account}"}
    ),
    ("POST", "/enterprises/{enterprise_id}/business"): page(
        "POST", "/enterprises/{enterprise}/business", {"default_business": "issue"}
    ),
    ("GET", "/enterprises/{enterprise_id}/accounts/new"): page(
        "GET", "/enterprises/{enterprise}/accounts/new"
    ),
    ("POST", "/enterprises/{enterprise_id}/accounts/new"): page(
        "POST", "/enterprises/{enterprise}/accounts/new", {"account": S1}
    ),
    ("GET", "/persons"): page("GET", "/persons"),
    ("POST", "/persons"): page(
        "POST",
        "/persons",
        {
            "name": "乙的自然人",
            "id_number": LI_SI.id_number,
            "password": "b-pass-2",
            "tenant_id": "{tenant_a}",
        },
    ),
    ("POST", "/persons/{person_id}/password"): page(
        "POST", "/persons/{person}/password", {"password": "stolen-2"}
    ),
    ("POST", "/numbers/{number_id}/added"): page(
        "POST",
        "/numbers/{number}/added",
        {"not_default": "on", "face_checked": "on", "person_id": "{b_person}"},
    ),
    ("POST", "/numbers/{number_id}/refused"): page(
        "POST", "/numbers/{number}/refused", {"region": "31"}
    ),
    ("POST", "/accounts/{account_id}/provider"): page(
        "POST",
        "/accounts/{account}/provider",
        {
            "provider_url": "https://b.example/api",
            "app_key": "b-key",
            "app_secret": "b-secret-0000000000",
        },
    ),
    ("POST", "/numbers/{number_id}/test-login"): page(
        "POST", "/numbers/{number}/test-login"
    ),
    ("GET", "/inbox"): page("GET", "/inbox?number={number}"),
    ("GET", "/inbox/stream"): inbox_stream,
    ("GET", "/logins"): page("GET", "/logins"),
    ("GET", "/logins/{login_id}"): page("GET", "/logins/{login}"),
    ("GET", "/logins/{login_id}/stream"): page("GET", "/logins/{login}/stream"),
    ("POST", "/logins/{login_id}/release"): page("POST", "/logins/{login}/release"),
    ("GET", "/audit"): page("GET", "/audit"),
    ("GET", "/users"): page("GET", "/users"),
    ("POST", "/users"): page(
        "POST",
        "/users",
        {
            "name": "乙的新用户",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "role": "admin",
            "tenant_id": "{tenant_a}",
        },
    ),
    ("POST", "/users/{operator_id}/unlock"): page("POST", "/users/{operator}/unlock"),
    ("POST", "/users/{operator_id}/role"): page(
        "POST", "/users/{operator}/role", {"role": "viewer"}
    ),
    ("POST", "/users/{operator_id}/disable"): page("POST", "/users/{operator}/disable"),
    ("POST", "/users/{operator_id}/enable"): page("POST", "/users/{operator}/enable"),
    ("POST", "/users/{operator_id}/password"): page(
        "POST",
        "/users/{operator}/password",
        {"password": PASSWORD, "password_again": PASSWORD},
    ),
    ("GET", "/me"): page("GET", "/me"),
}

# Routes that hold no tenant's or customer's data, and why.
OPEN = {
    ("GET", "/openapi.json"): "the API's description",
    ("GET", "/docs"): "the API's description",
    ("GET", "/docs/oauth2-redirect"): "the API's description",
    ("GET", "/redoc"): "the API's description",
    ("GET", "/healthz"): "says only that the server answers",
    ("GET", "/query"): "a number and its own PIN, no tenant (tests/query)",
    ("POST", "/query"): "a number and its own PIN, no tenant (tests/query)",
    ("POST", "/hooks/chat"): "the platform's ops robot, allowed senders only",
    **{
        (method, "/hooks/sms/{kind}/{name}"): "a gateway, by its source's secret"
        for method in ("GET", "POST", "PUT", "PATCH")
    },
    ("GET", "/login"): "the sign-in form: no session yet",
    ("POST", "/login"): "the sign-in form: no session yet",
    ("POST", "/logout"): "ends the caller's own session",
    ("POST", "/me/password"): "the caller's own password (tests/web)",
    ("MOUNT", "/static"): "the console's stylesheets and scripts",
    ("MOUNT", "/sim"): "the simulated bureau: a sandbox, off in production",
}


def app_routes(world: World) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(world.stack.app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("MOUNT", str(route.path)))
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, str(route.path)))
    return found


# What of A is compared before and after: its rows, and those it shares.
A_ROWS = {
    "enterprises": "tenant_id",
    "persons": "tenant_id",
    "accounts": "tenant_id",
    "webhook_subscriptions": "tenant_id",
    "operators": "tenant_id",
    "account_enterprises": None,
    "person_numbers": None,
    "numbers": None,
    "sources": None,
    "customers": None,
    "forward_routes": None,
}
VOLATILE = {"signed_in_at", "failures"}


def _snapshot(connection: Connection, tenant_id: int) -> dict[str, list[Any]]:
    metadata = MetaData()
    metadata.reflect(connection, only=list(A_ROWS))
    taken = {}
    for name, scoped_by in A_ROWS.items():
        table = metadata.tables[name]
        columns = [c for c in table.columns if c.name not in VOLATILE]
        query = select(*columns)
        if scoped_by is not None:
            query = query.where(table.c[scoped_by] == tenant_id)
        taken[name] = sorted(tuple(map(str, row)) for row in connection.execute(query))
    return taken


async def snapshot(world: World) -> dict[str, list[Any]]:
    async with world.stack.runtime.db.engine.connect() as connection:
        return await connection.run_sync(_snapshot, world.tenant_id)


async def a_things(world: World) -> dict[str, Any]:
    """A login, a webhook with a delivery, a forward, an operator and a gateway."""
    runtime, http = world.stack.runtime, world.http
    auth = {"authorization": f"Bearer {world.api_key}"}
    login = await http.post(
        "/api/v1/logins", headers=auth, json={"tax_id": A.tax_id, "business": "receive"}
    )
    hook = await http.post(
        "/api/v1/webhooks",
        headers=auth,
        json={"url": "http://127.0.0.1:9/a", "events": ["*"]},
    )
    async with runtime.db.session() as session:
        enterprise = await session.scalar(
            select(Enterprise).where(
                Enterprise.tax_id == A.tax_id, Enterprise.tenant_id == world.tenant_id
            )
        )
        person = await session.scalar(
            select(Person.id).where(Person.name == ZHANG_SAN.name)
        )
        number = await session.scalar(select(Number.id).where(Number.msisdn == S1))
        account = await session.scalar(
            select(Account.id).where(Account.tenant_id == world.tenant_id)
        )
    assert enterprise is not None and login.status_code == 202
    changed = await http.patch(
        f"{ACCOUNTS.format(tax_id=A.tax_id)}/{account}",
        headers=auth,
        json={"default_business": "issue"},
    )
    assert changed.status_code == 200, changed.text
    operator = await add_operator(
        runtime.db, runtime.clock, name="甲管理员", password=PASSWORD,
        role=Role.OPERATOR, tenant_id=world.tenant_id, actor="test",
    )  # fmt: skip
    await forward_for_a(world)
    return {
        "login": login.json()["id"],
        "webhook": hook.json()["id"],
        "delivery": await first_delivery(http, auth, hook.json()["id"]),
        "tax_id": A.tax_id,
        "enterprise": enterprise.id,
        "person": person,
        "number": number,
        "msisdn": S1,
        "account": account,
        "operator": operator.id,
        "tenant_a": world.tenant_id,
    }


async def first_delivery(
    http: httpx.AsyncClient, auth: dict[str, str], hook: str
) -> int:
    async with asyncio.timeout(10):
        while True:
            listed = await http.get(f"/api/v1/webhooks/{hook}/deliveries", headers=auth)
            deliveries = listed.json()["deliveries"]
            if deliveries:
                return int(deliveries[0]["id"])
            await asyncio.sleep(0.05)


async def forward_for_a(world: World) -> None:
    """S1 forwards to a webhook; one SMS reaches it; customer A has a gateway."""
    runtime = world.stack.runtime
    await add_channel(
        runtime.db, runtime.vault, runtime.clock, kind="webhook", name="a-out",
        config={"url": "http://127.0.0.1:9/forward"}, secret="a-forward-secret-0001",
    )  # fmt: skip
    await add_route(runtime.db, runtime.clock, number=S1, channel_name="a-out")
    door = world.doors["smsforwarder"]
    sent = await world.send(smsforwarder(door.url, door.secret, "【测试】甲的第一条"))
    assert sent.status_code == 200
    async with runtime.db.session() as session:
        customer = await session.scalar(
            select(Number.customer_id).where(Number.msisdn == S1)
        )
    await add_source(
        runtime.db, runtime.vault, runtime.clock, kind="generic", name="a-gateway",
        secret="a-gateway-secret-0001", number=S1, customer_id=customer,
    )  # fmt: skip


async def b_side(world: World) -> tuple[str, int, tuple[str, str]]:
    runtime = world.stack.runtime
    made = await add_tenant(runtime.db, runtime.clock, "乙集团", actor="test")
    person = await world.http.post(
        "/api/v1/persons",
        headers={"authorization": f"Bearer {made.api_key}"},
        json={"name": "乙员工", "id_number": "110101199003074514", "password": "b-1"},
    )
    assert person.status_code == 201, person.text
    await add_operator(
        runtime.db, runtime.clock, name="乙管理员", password=PASSWORD,
        role=Role.ADMIN, tenant_id=made.tenant.id, actor="test",
    )  # fmt: skip
    other = await add_customer(runtime.db, runtime.vault, runtime.clock, "另一平台")
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Number)
            .where(Number.msisdn == S3)
            .values(customer_id=other.customer.id)
        )
    customer = (other.customer.app_key, other.app_secret)
    return made.api_key, int(person.json()["id"]), customer


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sides(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sides]:
    folder = tmp_path_factory.mktemp("isolation")
    with databases.fresh(folder, databases.migrated) as url:
        async with world_on(folder, url) as world, Console(world.stack.url) as console:
            a = await a_things(world)
            key_b, b_person, customer_b = await b_side(world)
            a["b_person"] = b_person
            assert (await console.sign_in("乙管理员", PASSWORD)).status_code == 303
            console.csrf = csrf_of((await console.get("/persons")).text)
            made = Sides(world, a, key_b, b_person, customer_b, console)
            made.before = await snapshot(world)
            yield made


async def test_every_route_of_the_app_is_tried_or_says_why_it_holds_nothing(
    sides: Sides,
) -> None:
    routes = app_routes(sides.world)

    untried = sorted(routes - set(TRIALS) - set(OPEN))
    gone = sorted((set(TRIALS) | set(OPEN)) - routes)

    assert untried == [], "add these routes to TRIALS (or OPEN, saying why)"
    assert gone == [], "these routes are no longer in the app"
    assert not set(TRIALS) & set(OPEN)


@pytest.mark.parametrize("route", list(TRIALS), ids=lambda r: f"{r[0]} {r[1]}")
async def test_the_other_tenant_gets_nothing_of_a_through(
    sides: Sides, route: tuple[str, str]
) -> None:
    await TRIALS[route](sides)


async def test_nothing_of_a_changed_after_every_route_was_tried(sides: Sides) -> None:
    assert await snapshot(sides.world) == sides.before
