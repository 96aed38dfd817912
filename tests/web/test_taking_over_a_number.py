"""Giving a person a number proves nothing, so it shows the tenant nothing from
before: a sub-number bound for a 税号 goes only to a tenant with that enterprise,
and a tenant sees a number's SMS only from when the number became its own (given
to one of its persons, or bound for it), in the inbox, its live stream, the
audit log and the forwards."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest_asyncio
from sqlalchemy import select

from banshui.accounts.models import Enterprise
from banshui.accounts.tenants import add_tenant
from banshui.chat.commands import answer
from banshui.demo.cast import LI_SI, ZHANG_SAN, A, B
from banshui.forwarding.setup import add_channel, add_route
from banshui.numbers.customers import NewCustomer, add_customer
from banshui.numbers.models import Number
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from banshui.sms.models import InboundSms
from banshui.sms.sources import add_source
from banshui.web.console.refusals import BOUND_FOR_ANOTHER_ENTERPRISE
from security.wire import generic

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
OPERATOR = "孙八"  # operator of 另一集团
GATEWAY, GATEWAY_SECRET = "shared-gateway", "a-generic-gateway-secret-0001"
# Valid 统一社会信用代码 that no tenant has an enterprise with, to begin with.
NOBODYS = "91110000MA01ABCD1M"
ADDED_LATER = "91110000MA01ABCE1N"
ALSO_NOBODYS = "91110000MA01ABCF1P"
_codes = itertools.count(462000)


@dataclass
class Other:
    """另一集团: its API key, its operator 孙八 and its person 王九."""

    tenant_id: int
    http: httpx.AsyncClient
    person: int


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def other(sandbox: Sandbox) -> AsyncIterator[Other]:
    runtime = sandbox.stack.runtime
    made = await add_tenant(runtime.db, runtime.clock, "另一集团", actor="test")
    await add_operator(
        runtime.db,
        runtime.clock,
        name=OPERATOR,
        password=PASSWORD,
        role=Role.OPERATOR,
        tenant_id=made.tenant.id,
        actor="test",
    )
    headers = {"Authorization": f"Bearer {made.api_key}"}
    async with httpx.AsyncClient(
        base_url=sandbox.stack.url, headers=headers, timeout=30
    ) as http:
        person = await http.post(
            "/api/v1/persons",
            json={"name": "王九", "id_number": "110101199003077774", "password": "x"},
        )
        assert person.status_code == 201, person.text
        yield Other(made.tenant.id, http, person.json()["id"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ours(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """banshui's API with 示例集团's key."""
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    async with httpx.AsyncClient(
        base_url=sandbox.stack.url, headers=headers, timeout=30
    ) as http:
        yield http


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def customer(sandbox: Sandbox) -> NewCustomer:
    runtime = sandbox.stack.runtime
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="generic",
        name=GATEWAY,
        secret=GATEWAY_SECRET,
        actor="test",
    )
    return await add_customer(runtime.db, runtime.vault, runtime.clock, "示例号商")


async def bind(
    sandbox: Sandbox, customer: NewCustomer, tax_id: str, number: str
) -> None:
    """绑定小号, as ops sends it in the chat."""
    text = "#".join(
        [
            "绑定小号",
            tax_id,
            customer.customer.app_key,
            customer.app_secret,
            ZHANG_SAN.real_phone,
            number,
        ]
    )
    replied = await answer(sandbox.stack.runtime, text, actor="运维小王")
    assert replied.ok, replied.text


async def bureau_code(sandbox: Sandbox, number: str) -> str:
    """The bureau's login code for the number, through the generic gateway."""
    code = str(next(_codes))
    text = f"【深圳税务】您的登录验证码：{code}，请确认是本人操作，有效期为5分钟。"
    url = f"{sandbox.stack.url}/hooks/sms/generic/{GATEWAY}"
    signed = generic(url, GATEWAY, GATEWAY_SECRET, text, f"takeover-{code}", number)
    async with httpx.AsyncClient(timeout=30) as http:
        sent = await http.request(
            signed.method, signed.url, headers=signed.headers, content=signed.content
        )
    assert sent.status_code == 200, sent.text
    return code


async def give(http: httpx.AsyncClient, person: int, number: str) -> httpx.Response:
    return await http.post(f"/api/v1/persons/{person}/numbers", json={"number": number})


async def person_named(http: httpx.AsyncClient, name: str) -> int:
    persons = (await http.get("/api/v1/persons")).json()["persons"]
    found: int = next(person["id"] for person in persons if person["name"] == name)
    return found


async def console_page(sandbox: Sandbox, operator: str, path: str) -> str:
    async with Console(sandbox.stack.url) as console:
        signed_in = await console.sign_in(operator, PASSWORD)
        assert signed_in.status_code == 303, signed_in.text
        page = await console.get(path)
    assert page.status_code == 200, page.text
    return page.text


async def first_streamed(sandbox: Sandbox, operator: str, after: int) -> str:
    """The first SMS the live inbox sends the operator after that id."""
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(operator, PASSWORD)
        path = f"/inbox/stream?after={after}"
        async with console.http.stream("GET", path) as stream:
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    html: str = json.loads(line.removeprefix("data: "))["html"]
                    return html
    raise AssertionError("the stream ended without an SMS")


async def sms_ids(sandbox: Sandbox, number: str) -> list[int]:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalars(
            select(InboundSms.id)
            .where(InboundSms.number == number)
            .order_by(InboundSms.id)
        )
        return list(found)


async def test_a_tenant_cannot_take_a_number_bound_for_a_tax_id_it_does_not_have(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912346070"
    await bind(sandbox, customer, NOBODYS, number)
    code = await bureau_code(sandbox, number)

    taken = await give(other.http, other.person, number)

    assert taken.status_code == 409, taken.text
    assert taken.json() == {
        "error": {
            "code": "conflict",
            "message": f"{number} is bound for an enterprise this tenant does not have",
            "field": "number",
        }
    }
    person = (await other.http.get(f"/api/v1/persons/{other.person}")).json()
    assert person["numbers"] == []
    theirs = await console_page(sandbox, OPERATOR, "/inbox")
    assert code not in theirs and number not in theirs


async def test_a_tenant_given_a_number_sees_only_the_sms_that_came_after(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912346071"
    runtime = sandbox.stack.runtime
    await add_channel(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="webhook",
        name="takeover-out",
        config={"url": "http://127.0.0.1:9/forward"},
        secret="a-forward-secret-0001",
    )
    await add_route(
        runtime.db, runtime.clock, number=number, channel_name="takeover-out"
    )
    before = await bureau_code(sandbox, number)
    [before_id] = await sms_ids(sandbox, number)

    given = await give(other.http, other.person, number)
    after = await bureau_code(sandbox, number)

    assert given.status_code == 201, given.text
    [_, after_id] = await sms_ids(sandbox, number)
    inbox = await console_page(sandbox, OPERATOR, "/inbox")
    assert after in inbox and before not in inbox
    streamed = await first_streamed(sandbox, OPERATOR, before_id - 1)
    assert after in streamed and before not in streamed
    listed = (await other.http.get("/api/v1/forwards")).json()["forwards"]
    assert [forward["sms_id"] for forward in listed] == [after_id]
    # The platform sees the number's whole inbox, as before.
    whole = await console_page(sandbox, cast.admin, "/inbox")
    assert before in whole and after in whole


async def test_a_tenant_that_adds_the_enterprise_takes_the_number_from_then_on(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912346072"
    await bind(sandbox, customer, ADDED_LATER, number)
    before = await bureau_code(sandbox, number)
    added = await other.http.post(
        "/api/v1/enterprises", json={"tax_id": ADDED_LATER, "name": "后来的公司"}
    )
    assert added.status_code == 201, added.text

    given = await give(other.http, other.person, number)
    after = await bureau_code(sandbox, number)

    assert given.status_code == 201, given.text
    inbox = await console_page(sandbox, OPERATOR, "/inbox")
    assert after in inbox and before not in inbox
    audit = await console_page(sandbox, OPERATOR, "/audit")
    # The number's entries from before, its binding for no tenant, are not its.
    assert f"tax_id:{ADDED_LATER} tenant:-" not in audit
    assert f"number:{number}</td>" in audit and "number.owner_set" in audit


async def test_the_tenant_with_the_enterprise_sees_the_bureaus_code_once_bound(
    sandbox: Sandbox,
    cast: Cast,
    customer: NewCustomer,
    other: Other,
    ours: httpx.AsyncClient,
) -> None:
    number = "19912346073"
    await bind(sandbox, customer, A.tax_id, number)
    while_bound = await bureau_code(sandbox, number)

    given = await give(ours, await person_named(ours, ZHANG_SAN.name), number)
    code = await bureau_code(sandbox, number)

    assert given.status_code == 201, given.text
    inbox = await console_page(sandbox, cast.operator, "/inbox")
    assert code in inbox and while_bound in inbox
    assert code not in await console_page(sandbox, OPERATOR, "/inbox")


async def test_a_number_bound_for_a_tenant_shows_it_nothing_from_before_the_binding(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912346074"
    before = await bureau_code(sandbox, number)

    await bind(sandbox, customer, B.tax_id, number)
    after = await bureau_code(sandbox, number)

    async with sandbox.stack.runtime.db.session() as session:
        row = await session.scalar(select(Number).where(Number.msisdn == number))
    assert row is not None and row.tenant_id == sandbox.tenant_id
    inbox = await console_page(sandbox, cast.operator, "/inbox")
    assert after in inbox and before not in inbox


async def test_a_number_moved_between_the_tenants_persons_keeps_its_sms_for_it(
    sandbox: Sandbox, cast: Cast, ours: httpx.AsyncClient
) -> None:
    number = "19912346075"
    given = await give(ours, await person_named(ours, ZHANG_SAN.name), number)
    assert given.status_code == 201, given.text
    code = await bureau_code(sandbox, number)

    moved = await give(ours, await person_named(ours, LI_SI.name), number)

    assert moved.status_code == 201, moved.text
    assert code in await console_page(sandbox, cast.operator, "/inbox")


async def test_the_new_account_form_refuses_a_number_bound_for_another_enterprise(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, ours: httpx.AsyncClient
) -> None:
    number = "19912346076"
    await bind(sandbox, customer, ALSO_NOBODYS, number)
    async with sandbox.stack.runtime.db.session() as session:
        a = await session.scalar(
            select(Enterprise.id).where(
                Enterprise.tax_id == A.tax_id,
                Enterprise.tenant_id == sandbox.tenant_id,
            )
        )

    zhang = await person_named(ours, ZHANG_SAN.name)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        refused = await console.post(
            f"/enterprises/{a}/accounts/new",
            {
                "login_type": "sub_number",
                "account": number,
                "identity_code": "03",
                "default_business": "receive",
                "person_id": str(zhang),
            },
        )

    assert refused.status_code == 409, refused.text
    assert BOUND_FOR_ANOTHER_ENTERPRISE in refused.text
    async with sandbox.stack.runtime.db.session() as session:
        row = await session.scalar(select(Number).where(Number.msisdn == number))
    assert row is not None and row.tenant_id is None


async def test_the_persons_page_refuses_a_number_bound_for_another_enterprise(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912346077"
    await bind(sandbox, customer, ALSO_NOBODYS, number)
    async with sandbox.stack.runtime.db.session() as session:
        number_id = await session.scalar(
            select(Number.id).where(Number.msisdn == number)
        )

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.admin, PASSWORD)
        refused = await console.post(
            f"/numbers/{number_id}/added",
            {
                "person_id": str(other.person),
                "not_default": "on",
                "face_checked": "on",
            },
        )

    assert refused.status_code == 409, refused.text
    assert BOUND_FOR_ANOTHER_ENTERPRISE in refused.text
    person = (await other.http.get(f"/api/v1/persons/{other.person}")).json()
    assert number not in [held["number"] for held in person["numbers"]]
