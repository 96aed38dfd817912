"""Who changed a number's owner or a credential, who signed in, who saw a code.

Each is done once over HTTP, the way its caller does it, and the audit log then
holds exactly one entry for it: the action, what it was about, who (the tenant,
operator, customer or client), when (between the request's start and its end)
and from where (the client's address).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from banshui.accounts.models import Person
from banshui.audit.models import AuditEntry
from banshui.chat.senders import allow
from banshui.demo.cast import LI_SI, S1, S3, ZHANG_SAN, A, seed_simulator
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from banshui.query.pins import set_pin
from databases import Databases
from security.conftest import CHAT_TOKEN, World, settled, world_on
from security.wire import banshui_signed, smsforwarder
from web.console import Console, csrf_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLIENT = "127.0.0.1"
PASSWORD = "Audit-pass-2026-x"
PIN = "730514"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("audit")
    with databases.fresh(folder, databases.migrated) as url:
        async with world_on(folder, url) as made:
            await seed_simulator(made.stack.runtime, made.stack.sim, None, 7)
            runtime = made.stack.runtime
            await add_operator(
                runtime.db, runtime.clock, name="审计王", password=PASSWORD,
                role=Role.ADMIN, tenant_id=made.tenant_id, actor="test",
            )  # fmt: skip
            yield made


class Written:
    """The audit entries written while the block ran."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.entries: list[AuditEntry] = []

    async def __aenter__(self) -> Written:
        async with self.world.stack.runtime.db.session() as session:
            self.last = int(await session.scalar(select(func.max(AuditEntry.id))) or 0)
        self.started = self.world.stack.runtime.clock.now()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.ended = self.world.stack.runtime.clock.now()
        async with self.world.stack.runtime.db.session() as session:
            found = await session.scalars(
                select(AuditEntry).where(AuditEntry.id > self.last)
            )
            self.entries = list(found)

    def one(self, action: str, subject: str) -> AuditEntry:
        matching = [
            e for e in self.entries if e.action == action and e.subject == subject
        ]
        assert len(matching) == 1, [(e.action, e.subject) for e in self.entries]
        entry = matching[0]
        assert self.started - timedelta(seconds=1) <= entry.at <= self.ended
        assert entry.client == CLIENT
        return entry


def bearer(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.api_key}"}


async def person_id(world: World, name: str) -> int:
    async with world.stack.runtime.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == name))
    assert found is not None
    return found


async def signed_in(world: World) -> Console:
    console = Console(world.stack.url)
    assert (await console.sign_in("审计王", PASSWORD)).status_code == 303
    console.csrf = csrf_of((await console.get("/persons")).text)
    return console


async def test_a_number_given_to_a_person_and_moved_to_another_is_audited_each_time(
    world: World,
) -> None:
    zhang, li = (
        await person_id(world, ZHANG_SAN.name),
        await person_id(world, LI_SI.name),
    )
    number = "19912347001"

    async with Written(world) as given:
        answer = await world.http.post(
            f"/api/v1/persons/{zhang}/numbers", headers=bearer(world),
            json={"number": number},
        )  # fmt: skip
    async with Written(world) as moved:
        again = await world.http.post(
            f"/api/v1/persons/{li}/numbers", headers=bearer(world),
            json={"number": number},
        )  # fmt: skip

    assert (answer.status_code, again.status_code) == (201, 201)
    who = f"tenant:{world.tenant_id}@{CLIENT}"
    assert given.one("number.owner_set", f"number:{number}").actor == who
    assert moved.one("number.owner_moved", f"number:{number}").actor == who


async def test_a_number_bound_through_the_chat_robot_is_audited_with_its_sender(
    world: World,
) -> None:
    runtime = world.stack.runtime
    await allow(runtime.db, runtime.clock, "ops-audit", actor="test")
    number = "19912347002"
    command = (
        f"绑定小号#{A.tax_id}#{world.app_key}#{world.app_secret}#13700137000#{number}"
    )

    async with Written(world) as written:
        answer = await world.http.post(
            "/hooks/chat",
            headers={"authorization": f"Bearer {CHAT_TOKEN}"},
            json={"sender": "ops-audit", "text": command},
        )

    assert answer.status_code == 200, answer.text
    entry = written.one("number.bound", f"number:{number}")
    assert entry.actor == "ops-audit", answer.json()
    assert world.app_secret not in (entry.detail or "")


async def test_a_tax_password_changed_over_the_api_or_the_console_is_audited(
    world: World,
) -> None:
    zhang = await person_id(world, ZHANG_SAN.name)

    async with Written(world) as by_api:
        answer = await world.http.put(
            f"/api/v1/persons/{zhang}/password", headers=bearer(world),
            json={"password": ZHANG_SAN.password},
        )  # fmt: skip
    console = await signed_in(world)
    async with console, Written(world) as by_console:
        posted = await console.post(
            f"/persons/{zhang}/password", {"password": ZHANG_SAN.password}
        )

    assert (answer.status_code, posted.status_code) == (204, 303)
    api_entry = by_api.one("person.password_changed", f"person:{zhang}")
    console_entry = by_console.one("person.password_changed", f"person:{zhang}")
    assert api_entry.actor == f"tenant:{world.tenant_id}@{CLIENT}"
    assert console_entry.actor == "console:审计王"
    assert ZHANG_SAN.password not in f"{api_entry.detail}{console_entry.detail}"


async def hosted_account(world: World) -> int:
    """An account of 李四's on a number another provider hosts."""
    li = await person_id(world, LI_SI.name)
    number = "19912347003"
    given = await world.http.post(
        f"/api/v1/persons/{li}/numbers", headers=bearer(world), json={"number": number}
    )
    made = await world.http.post(
        f"/api/v1/enterprises/{A.tax_id}/accounts",
        headers=bearer(world),
        json={
            "login_type": "sub_number",
            "account": number,
            "identity_code": "03",
            "default_business": "issue",
            "provider_url": "https://provider.example/api",
            "app_key": "first-app-key",
            "app_secret": "first-provider-secret-0001",
        },
    )
    assert (given.status_code, made.status_code) == (201, 201), made.text
    return int(made.json()["id"])


async def test_an_accounts_provider_secret_replaced_in_the_console_is_audited(
    world: World,
) -> None:
    account = await hosted_account(world)
    console = await signed_in(world)
    secret = "replaced-provider-secret-9f1c"

    async with console, Written(world) as written:
        await console.post(
            f"/accounts/{account}/provider",
            {
                "provider_url": "https://provider.example/api",
                "app_key": "audit-app-key",
                "app_secret": secret,
            },
        )

    entry = written.one("account.provider_replaced", f"account:{account}")
    assert entry.actor == "console:审计王"
    assert secret not in (entry.detail or "")


async def test_a_sign_in_and_a_refused_one_are_audited_with_the_address(
    world: World,
) -> None:
    async with Console(world.stack.url) as console, Written(world) as written:
        await console.sign_in("审计王", "not-the-password")
        await console.sign_in("审计王", PASSWORD)

    # Nobody is signed in yet when a sign-in is refused: the address is who tried.
    assert written.one("operator.sign_in_refused", "operator:审计王").actor == CLIENT
    # A sign-in is the operator's own, like every later entry of theirs; its
    # address is kept as every entry's is (``one`` checks the client).
    signed_in = written.one("operator.signed_in", "operator:审计王")
    assert signed_in.actor == "console:审计王"


async def sms_to(world: World, text: str) -> None:
    door = world.doors["smsforwarder"]
    answer = await world.send(smsforwarder(door.url, door.secret, text))
    assert answer.status_code == 200


async def test_a_code_seen_on_the_query_page_is_audited_with_the_address(
    world: World,
) -> None:
    runtime = world.stack.runtime
    await set_pin(runtime.db, runtime.clock, S3, PIN, actor="test")
    await sms_to(world, "【中国税务】您的登录验证码：551238，5分钟内有效。")

    async with Written(world) as written:
        page = await world.http.post("/query", data={"number": S3, "pin": PIN})

    assert page.status_code == 200
    assert written.one("code.viewed", f"number:{S3}").actor == CLIENT


async def test_a_code_seen_in_the_console_inbox_is_audited_with_the_operator(
    world: World,
) -> None:
    await sms_to(world, "【中国税务】您的登录验证码：662349，5分钟内有效。")
    console = await signed_in(world)

    async with console, Written(world) as written:
        page = await console.get("/inbox")

    assert "662349" in page.text
    viewed = [e for e in written.entries if e.action == "code.viewed"]
    assert len(viewed) == 1 and viewed[0].actor == "console:审计王"
    assert viewed[0].client == CLIENT


async def test_codes_listed_and_claimed_by_a_customer_are_audited(world: World) -> None:
    base = f"{world.stack.url}/api/v1/provider/numbers/{S1}"
    after = (datetime.now().astimezone() - timedelta(minutes=5)).isoformat()
    body = json.dumps({"after": after}).encode()
    await sms_to(world, "【中国税务】您的登录验证码：773450，5分钟内有效。")

    async with Written(world) as written:
        listed = await world.send(
            banshui_signed("GET", f"{base}/sms", world.app_key, world.app_secret, b"")
        )
        claimed = await world.send(
            banshui_signed(
                "POST", f"{base}/claims", world.app_key, world.app_secret, body
            )
        )

    assert listed.status_code == 200, listed.text
    assert claimed.status_code in (200, 404), claimed.text
    entry = written.one("sms.listed", f"number:{S1}")
    assert entry.actor.startswith("customer:")
    if claimed.status_code == 200:
        assert written.one("code.claimed", f"number:{S1}").actor == entry.actor


async def test_a_session_handed_out_is_audited_with_the_tenant_and_address(
    world: World,
) -> None:
    http, auth = world.http, bearer(world)
    asked = await http.post(
        "/api/v1/logins", headers=auth, json={"tax_id": A.tax_id, "business": "receive"}
    )
    login_id = asked.json()["id"]
    await settled(http, auth, login_id)

    async with Written(world) as written:
        handed = await http.get(f"/api/v1/logins/{login_id}/session", headers=auth)
    await http.post(f"/api/v1/logins/{login_id}/release", headers=auth)

    assert handed.status_code == 200, handed.text
    entry = written.one("session.handed_out", f"login:{login_id}")
    assert entry.actor == f"tenant:{world.tenant_id}@{CLIENT}"
