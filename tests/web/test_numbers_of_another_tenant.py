"""A number is the tenant's its binding was for, or whose person holds it: another
tenant with an enterprise of the same tax id sees neither it nor its codes."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest_asyncio
from sqlalchemy import select

from banshui.accounts.tenants import add_tenant
from banshui.chat.answers import Answer
from banshui.chat.commands import answer
from banshui.demo.cast import ZHANG_SAN, A, B, C
from banshui.numbers.customers import NewCustomer, add_customer
from banshui.numbers.models import Number
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import add_source, find_source
from banshui.web.console.scope import numbers_of_tenant

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
OPERATOR = "孙八"  # operator of 另一集团
_identities = itertools.count(1)
_codes = itertools.count(731000)


@dataclass
class Other:
    """另一集团: its own key and operator, and an enterprise with A's tax id."""

    tenant_id: int
    http: httpx.AsyncClient  # banshui's API with its key


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
        added = await http.post(
            "/api/v1/enterprises", json={"tax_id": A.tax_id, "name": "冒名甲公司"}
        )
        assert added.status_code == 201, added.text  # a tax id is no secret
        yield Other(made.tenant.id, http)


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
    return await add_customer(runtime.db, runtime.vault, runtime.clock, "示例号商")


async def bind(
    sandbox: Sandbox,
    customer: NewCustomer,
    tax_id: str,
    number: str,
    tenant: str | None = None,
) -> Answer:
    """绑定小号 for the number, 张三's real phone and the tax id, as ops sends it."""
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
    return await answer(sandbox.stack.runtime, text, actor="运维小王", tenant=tenant)


async def bureau_code(sandbox: Sandbox, number: str) -> str:
    """A bureau login SMS for the number, stored as its phone's gateway gives it."""
    runtime = sandbox.stack.runtime
    code = str(next(_codes))
    name = f"phone-{number}"
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=name,
        secret=f"secret-of-{number}",
        number=number,
        actor="test",
    )
    source = await find_source(runtime.db, "smsforwarder", name)
    sms = ReceivedSms(
        sender="12366",
        text=f"【深圳税务】您的登录验证码：{code}，请确认是本人操作，有效期为5分钟。",
        identity=f"other-tenant-{next(_identities)}",
        number=number,
    )
    await runtime.inbox.store(source, Verified(None, ""), [sms])
    return code


async def inbox_of(sandbox: Sandbox, operator: str) -> str:
    async with Console(sandbox.stack.url) as console:
        signed_in = await console.sign_in(operator, PASSWORD)
        assert signed_in.status_code == 303, signed_in.text
        page = await console.get("/inbox")
    assert page.status_code == 200, page.text
    return page.text


async def visible_to(sandbox: Sandbox, tenant_id: int) -> set[str]:
    """The numbers the console's scope gives the tenant."""
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalars(
            select(Number.msisdn).where(Number.id.in_(numbers_of_tenant(tenant_id)))
        )
        return set(found)


async def bound_tenant(sandbox: Sandbox, number: str) -> int | None:
    async with sandbox.stack.runtime.db.session() as session:
        row = await session.scalar(select(Number).where(Number.msisdn == number))
    assert row is not None
    return row.tenant_id


async def test_a_tax_id_two_tenants_have_binds_no_unheld_number_for_either(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912345678"

    replied = await bind(sandbox, customer, A.tax_id, number)
    code = await bureau_code(sandbox, number)

    assert code not in await inbox_of(sandbox, OPERATOR)
    assert number not in await visible_to(sandbox, other.tenant_id)
    assert not replied.ok
    assert replied.text == (
        f"绑定失败：税号 {A.tax_id} 的企业登记在多个租户下，无法确定小号 {number} "
        "属于哪个租户；请在服务器上用 banshui bind '…' --tenant 租户 指定"
    )


async def test_a_number_bound_before_another_tenant_adds_the_tax_id_stays_hidden(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912345679"
    replied = await bind(sandbox, customer, B.tax_id, number)
    assert replied.ok, replied.text
    added = await other.http.post(
        "/api/v1/enterprises", json={"tax_id": B.tax_id, "name": "冒名乙公司"}
    )
    assert added.status_code == 201, added.text

    code = await bureau_code(sandbox, number)

    theirs = await inbox_of(sandbox, OPERATOR)
    assert code not in theirs and number not in theirs
    assert number not in await visible_to(sandbox, other.tenant_id)
    assert number in await visible_to(sandbox, sandbox.tenant_id)
    assert code in await inbox_of(sandbox, cast.operator)
    assert await bound_tenant(sandbox, number) == sandbox.tenant_id


async def test_a_tax_id_two_tenants_have_binds_for_the_tenant_the_operator_names(
    sandbox: Sandbox,
    cast: Cast,
    customer: NewCustomer,
    other: Other,
    ours: httpx.AsyncClient,
) -> None:
    number = "19912345680"
    persons = (await ours.get("/api/v1/persons")).json()["persons"]
    zhang = next(person for person in persons if person["name"] == ZHANG_SAN.name)
    given = await ours.post(
        f"/api/v1/persons/{zhang['id']}/numbers", json={"number": number}
    )
    assert given.status_code == 201, given.text

    # Holding the number proves nothing: any tenant may give one nobody holds.
    unnamed = await bind(sandbox, customer, A.tax_id, number)
    replied = await bind(sandbox, customer, A.tax_id, number, str(sandbox.tenant_id))
    code = await bureau_code(sandbox, number)

    assert not unnamed.ok
    assert replied.ok, replied.text
    assert code not in await inbox_of(sandbox, OPERATOR)
    assert number not in await visible_to(sandbox, other.tenant_id)
    assert code in await inbox_of(sandbox, cast.operator)
    assert await bound_tenant(sandbox, number) == sandbox.tenant_id


async def test_a_tenant_that_takes_a_number_first_gets_no_binding_of_another(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912345683"
    person = await other.http.post(
        "/api/v1/persons",
        json={"name": "钱十一", "id_number": "110101199003079374", "password": "x-3"},
    )
    assert person.status_code == 201, person.text
    taken = await other.http.post(
        f"/api/v1/persons/{person.json()['id']}/numbers", json={"number": number}
    )
    assert taken.status_code == 201, taken.text  # unbound and unheld: first come

    unnamed = await bind(sandbox, customer, A.tax_id, number)
    named = await bind(sandbox, customer, A.tax_id, number, str(sandbox.tenant_id))
    code = await bureau_code(sandbox, number)

    assert (unnamed.ok, named.ok) == (False, False)
    assert named.text == (
        f"绑定失败：小号 {number} 属于另一租户的自然人，"
        f"不能为税号 {A.tax_id} 的企业绑定"
    )
    assert await bound_tenant(sandbox, number) is None
    assert code not in await inbox_of(sandbox, cast.operator)


async def test_naming_a_tenant_without_the_tax_id_or_no_tenant_binds_nothing(
    sandbox: Sandbox, customer: NewCustomer, other: Other
) -> None:
    number = "19912345684"

    without = await bind(sandbox, customer, C.tax_id, number, str(other.tenant_id))
    nobody = await bind(sandbox, customer, C.tax_id, number, "没有这个租户")

    assert (
        without.text == f"绑定失败：租户 {other.tenant_id} 没有税号 {C.tax_id} 的企业"
    )
    assert nobody.text == "绑定失败：没有租户 没有这个租户"


async def test_another_tenant_cannot_take_a_number_bound_for_this_one(
    sandbox: Sandbox, customer: NewCustomer, other: Other
) -> None:
    number = "19912345681"
    assert (await bind(sandbox, customer, C.tax_id, number)).ok
    person = await other.http.post(
        "/api/v1/persons",
        json={"name": "王九", "id_number": "110101199003077774", "password": "x-1"},
    )
    assert person.status_code == 201, person.text

    taken = await other.http.post(
        f"/api/v1/persons/{person.json()['id']}/numbers", json={"number": number}
    )

    assert taken.status_code == 409, taken.text
    assert taken.json()["error"]["field"] == "number"
    assert number not in await visible_to(sandbox, other.tenant_id)


async def test_a_number_another_tenants_person_holds_is_not_bound_for_this_one(
    sandbox: Sandbox, cast: Cast, customer: NewCustomer, other: Other
) -> None:
    number = "19912345682"
    person = await other.http.post(
        "/api/v1/persons",
        json={"name": "赵十", "id_number": "110101199003078574", "password": "x-2"},
    )
    assert person.status_code == 201, person.text
    given = await other.http.post(
        f"/api/v1/persons/{person.json()['id']}/numbers", json={"number": number}
    )
    assert given.status_code == 201, given.text

    replied = await bind(sandbox, customer, C.tax_id, number)
    code = await bureau_code(sandbox, number)

    assert code not in await inbox_of(sandbox, cast.operator)
    assert number not in await visible_to(sandbox, sandbox.tenant_id)
    assert code in await inbox_of(sandbox, OPERATOR)
    assert replied.text == (
        f"绑定失败：小号 {number} 属于另一租户的自然人，"
        f"不能为税号 {C.tax_id} 的企业绑定"
    )
