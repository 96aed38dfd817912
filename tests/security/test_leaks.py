"""Canary secrets, set and used everywhere, turn up nowhere they should not.

A tax password, an appSecret (of a customer and of an account hosted
elsewhere), a gateway secret, a query PIN, a tenant API key, an operator's
password, the chat token and the bureau's session cookies are set, and the
product is exercised with them: logins over the API, SMS through every gateway
(signed and wrongly signed), the query page, the chat robot, the provider API,
the console's pages and forms, and requests that fail. Then the database
(every row of every table, and the SQLite file itself), every log record of
the process at DEBUG, and every response and error page are searched: no
canary in clear, except the session cookies in the lease holder's hand-out.

tests/core/test_secrets_at_rest.py checks the vault and the SQLite file for
the demo cast's secrets; this looks further, with secrets of its own.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Connection, MetaData, select
from sqlalchemy.engine import make_url

from banshui.accounts.models import Person
from banshui.chat.senders import allow
from banshui.demo.cast import S1, S2, ZHANG_SAN, A, B, seed_simulator
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from banshui.query.pins import set_pin
from databases import Databases
from security.conftest import CHAT_TOKEN, GATEWAY_SECRET, World, settled, world_on
from security.wire import banshui_signed, generic, smsforwarder
from web.console import Console, csrf_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

SMS = "【中国税务】您的登录验证码：{code}，请确认是本人操作，5分钟内有效。"


def canary(kind: str) -> str:
    return f"Canary-{kind}-{secrets.token_hex(8)}"


@dataclass
class Seen:
    """Everything that left banshui while it was exercised."""

    responses: list[tuple[str, int, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    # The lease holder's own hand-outs, where the session cookies belong.
    handouts: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)


@dataclass
class Exercised:
    world: World
    canaries: dict[str, str]
    seen: Seen


class Records(logging.Handler):
    """Every record, formatted with its arguments and any traceback."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # The simulator plays the bureau, which knows the password by right.
        if not record.name.startswith("banshui.simulator"):
            self.into.append(self.format(record))


def recording(client: httpx.AsyncClient, seen: Seen) -> None:
    async def keep(response: httpx.Response) -> None:
        if "event-stream" in response.headers.get("content-type", ""):
            return
        await response.aread()
        headers = json.dumps(dict(response.headers.multi_items()))
        body = f"{headers}\n{response.text}"
        if response.request.url.path.endswith("/session"):
            seen.handouts.append(body)
        else:
            seen.responses.append(
                (str(response.request.url), response.status_code, body)
            )

    client.event_hooks = {"response": [keep]}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def exercised(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Exercised]:
    folder = tmp_path_factory.mktemp("leaks")
    seen = Seen()
    handler = Records(seen.logs)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with databases.fresh(folder, databases.migrated) as url:
            async with world_on(folder, url) as world:
                await seed_simulator(world.stack.runtime, world.stack.sim, None, 7)
                recording(world.http, seen)
                canaries = await exercise(world, seen)
                yield Exercised(world, canaries, seen)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def exercise(world: World, seen: Seen) -> dict[str, str]:
    canaries = {
        "tax password": canary("taxpw"),
        "account appSecret": canary("appsecret"),
        "PIN": canary("pin"),
        "operator password": canary("oppw"),
        "customer appSecret": world.app_secret,
        "gateway secret": GATEWAY_SECRET,
        "API key": world.api_key,
        "chat token": CHAT_TOKEN,
    }
    await through_the_api(world, canaries)
    seen.cookies = await logging_in(world)
    await through_the_gateways(world)
    await through_the_query_page(world, canaries["PIN"])
    await through_the_chat_robot(world)
    await through_the_provider_api(world)
    await through_the_console(world, canaries, seen)
    return canaries


def bearer(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.api_key}"}


async def through_the_api(world: World, canaries: dict[str, str]) -> None:
    http, auth = world.http, bearer(world)
    person = await http.post(
        "/api/v1/persons",
        headers=auth,
        json={
            "name": "王五",
            "id_number": "110101199003074514",
            "password": canaries["tax password"],
        },
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    changed = await http.put(
        f"/api/v1/persons/{person_id}/password",
        headers=auth,
        json={"password": canaries["tax password"] + "-2"},
    )
    assert changed.status_code == 204
    given = await http.post(
        f"/api/v1/persons/{person_id}/numbers",
        headers=auth,
        json={"number": "19912349001"},
    )
    assert given.status_code == 201, given.text
    hosted = await http.post(
        f"/api/v1/enterprises/{B.tax_id}/accounts",
        headers=auth,
        json={
            "login_type": "sub_number",
            "account": "19912349001",
            "identity_code": "03",
            "default_business": "issue",
            "provider_url": "https://provider.example/api",
            "app_key": "hosted-app-key-1",
            "app_secret": canaries["account appSecret"],
        },
    )
    assert hosted.status_code == 201, hosted.text
    await http.get(f"/api/v1/accounts/{hosted.json()['id']}", headers=auth)
    await http.get(f"/api/v1/persons/{person_id}", headers=auth)
    await http.get("/api/v1/persons", headers=auth)
    await http.get(f"/api/v1/enterprises/{B.tax_id}/accounts", headers=auth)
    # Failing requests that carry the secrets: the errors must not echo them.
    for wrong in (
        {"password": canaries["tax password"] * 20},
        {"password": canaries["tax password"], "extra": canaries["tax password"]},
    ):
        refused = await http.put(
            f"/api/v1/persons/{person_id}/password", headers=auth, json=wrong
        )
        assert refused.status_code == 422
    await http.get("/api/v1/enterprises", headers={"authorization": "Bearer x"})


async def logging_in(world: World) -> list[str]:
    """A real login at the simulated bureau; the cookies it handed out."""
    http, auth = world.http, bearer(world)
    asked = await http.post(
        "/api/v1/logins", headers=auth, json={"tax_id": A.tax_id, "business": "receive"}
    )
    login_id = asked.json()["id"]
    await settled(http, auth, login_id)
    handed = await http.get(f"/api/v1/logins/{login_id}/session", headers=auth)
    assert handed.status_code == 200, handed.text
    await http.get(f"/api/v1/logins/{login_id}/timeline", headers=auth)
    await http.post(f"/api/v1/logins/{login_id}/release", headers=auth)
    cookies = [value for value in handed.json()["cookies"].values() if len(value) >= 8]
    assert cookies
    return cookies


async def through_the_gateways(world: World) -> None:
    for kind, door in world.doors.items():
        code = f"{secrets.randbelow(900_000) + 100_000}"
        text = SMS.format(code=code)
        if kind == "smsforwarder":
            await world.send(smsforwarder(door.url, door.secret, text))
            await world.send(
                smsforwarder(door.url, door.secret, text, sign_secret="x" * 20)
            )
        if kind == "generic":
            await world.send(generic(door.url, door.name, door.secret, text, code, S1))
            await world.send(generic(door.url, door.name, "y" * 20, text, code, S1))


async def through_the_query_page(world: World, pin: str) -> None:
    runtime = world.stack.runtime
    await set_pin(runtime.db, runtime.clock, S1, pin, actor="test")
    for tried in (pin, pin + "-wrong"):
        await world.http.post("/query", data={"number": S1, "pin": tried})
    await world.http.get("/query")


async def through_the_chat_robot(world: World) -> None:
    headers = {"authorization": f"Bearer {CHAT_TOKEN}"}
    runtime = world.stack.runtime
    await allow(runtime.db, runtime.clock, "ops-leaks", actor="test")
    bind = f"绑定小号#{A.tax_id}#{world.app_key}#{world.app_secret}#13800138000#{S2}"
    wrong = bind.replace(world.app_secret, world.app_secret[::-1])
    for text in (wrong, bind, f"查询小号#{S2}", bind):
        answer = await world.http.post(
            "/hooks/chat", headers=headers, json={"sender": "ops-leaks", "text": text}
        )
        assert answer.status_code == 200, answer.text


async def through_the_provider_api(world: World) -> None:
    base = f"{world.stack.url}/api/v1/provider"
    key, secret = world.app_key, world.app_secret
    refused = json.dumps({"kind": "generic", "name": "leaky", "secret": "short"})
    for request in (
        banshui_signed("GET", f"{base}/numbers/{S1}/sms", key, secret, b""),
        banshui_signed("GET", f"{base}/numbers/{S1}/sms", key, "z" * 32, b""),
        banshui_signed("GET", f"{base}/sources", key, secret, b""),
        banshui_signed("POST", f"{base}/sources", key, secret, refused.encode()),
    ):
        await world.send(request)


async def through_the_console(
    world: World, canaries: dict[str, str], seen: Seen
) -> None:
    runtime = world.stack.runtime
    password = canaries["operator password"]
    await add_operator(
        runtime.db, runtime.clock, name="审计员", password=password,
        role=Role.ADMIN, tenant_id=world.tenant_id, actor="test",
    )  # fmt: skip
    async with Console(world.stack.url) as console:
        recording(console.http, seen)
        await console.sign_in("审计员", password + "x")
        assert (await console.sign_in("审计员", password)).status_code == 303
        async with runtime.db.session() as session:
            zhang = await session.scalar(
                select(Person.id).where(Person.name == ZHANG_SAN.name)
            )
        for path in (
            "/enterprises",
            "/persons",
            "/inbox",
            "/logins",
            "/audit",
            "/users",
        ):
            await console.get(path)
        page = await console.get("/persons")
        console.csrf = csrf_of(page.text)
        await console.post(
            f"/persons/{zhang}/password", {"password": canaries["tax password"] + "-3"}
        )
        await console.post(f"/persons/{zhang}/password", {"password": ""})
        for path in ("/persons", "/audit", "/persons/999999/password"):
            await console.get(path)


def found_in(text: str, value: str) -> bool:
    return value in text or quote(value, safe="") in text


def _rows_as_text(connection: Connection) -> list[str]:
    metadata = MetaData()
    metadata.reflect(connection)
    values = []
    for table in metadata.sorted_tables:
        for row in connection.execute(table.select()):
            values.extend(str(value) for value in row if value is not None)
    return values


async def everything_in_the_database(world: World) -> list[str]:
    """Every value of every row of every table, as text."""
    async with world.stack.runtime.db.engine.connect() as connection:
        return await connection.run_sync(_rows_as_text)


async def test_no_canary_is_in_any_row_of_the_database(exercised: Exercised) -> None:
    values = await everything_in_the_database(exercised.world)
    secrets_ = {**exercised.canaries}
    secrets_.update(
        {f"cookie {n}": value for n, value in enumerate(exercised.seen.cookies)}
    )

    leaked = {
        name for name, value in secrets_.items() if any(value in v for v in values)
    }
    assert values and not leaked


@pytest.mark.sqlite_only
async def test_no_canary_is_in_the_sqlite_file_or_its_log(exercised: Exercised) -> None:
    path = Path(str(make_url(exercised.world.stack.settings.database_url).database))
    on_disk = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    values = [*exercised.canaries.values(), *exercised.seen.cookies]

    assert on_disk and not [v for v in values if v.encode() in on_disk]


async def test_no_canary_is_in_any_log_record(exercised: Exercised) -> None:
    logs = "\n".join(exercised.seen.logs)
    values = {**exercised.canaries}
    values.update({f"cookie {n}": v for n, v in enumerate(exercised.seen.cookies)})

    assert logs
    assert [name for name, value in values.items() if found_in(logs, value)] == []


async def test_no_canary_is_in_any_response_or_error_page(
    exercised: Exercised,
) -> None:
    seen = exercised.seen
    values = {**exercised.canaries}
    values.update({f"cookie {n}": v for n, v in enumerate(seen.cookies)})
    errors = [status for _, status, _ in seen.responses if status >= 400]

    leaks: dict[str, Any] = {
        name: [url for url, _, body in seen.responses if found_in(body, value)]
        for name, value in values.items()
    }

    assert len(seen.responses) > 40 and len(errors) > 5
    assert {name: urls for name, urls in leaks.items() if urls} == {}


async def test_the_session_cookies_reach_their_lease_holder(
    exercised: Exercised,
) -> None:
    handout = "\n".join(exercised.seen.handouts)

    assert all(cookie in handout for cookie in exercised.seen.cookies)
