"""Every page and action checks the caller's role and tenant, and every POST its
CSRF token."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from sqlalchemy import select

from banshui.accounts.models import AccountEnterprise, Enterprise
from banshui.accounts.service import Registry
from banshui.accounts.tenants import add_tenant
from banshui.demo.cast import S1, A
from banshui.numbers.models import Number
from banshui.operators.models import Operator
from banshui.operators.roles import Role
from banshui.operators.users import add_operator

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
OTHER_TAX_ID = "91440300MA5FE0050Q"
PAGES = ["/enterprises", "/persons", "/inbox", "/logins", "/audit"]


async def enterprise_id(sandbox: Sandbox, tax_id: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(
            select(Enterprise.id).where(Enterprise.tax_id == tax_id)
        )
    assert found is not None
    return found


async def number_id(sandbox: Sandbox, msisdn: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(select(Number.id).where(Number.msisdn == msisdn))
    assert found is not None
    return found


async def businesses_of_a(sandbox: Sandbox) -> list[str]:
    a = await enterprise_id(sandbox, A.tax_id)
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AccountEnterprise.default_business).where(
                AccountEnterprise.enterprise_id == a
            )
        )
        return list(rows)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def outsider(sandbox: Sandbox, cast: Cast) -> str:
    """周九, operator of 另一集团, which has an enterprise of its own."""
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "另一集团", actor="test")
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.add_enterprise(other.tenant.id, OTHER_TAX_ID, "深圳市另一戊有限公司")
    await add_operator(
        runtime.db,
        runtime.clock,
        name="周九",
        password=PASSWORD,
        role=Role.OPERATOR,
        tenant_id=other.tenant.id,
        actor="test",
    )
    return "周九"


@pytest.mark.parametrize("role", ["operator", "viewer", "admin"])
async def test_every_role_reads_the_pages_of_its_scope(
    sandbox: Sandbox, cast: Cast, role: str
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(getattr(cast, role), PASSWORD)
        answers = [await console.get(page) for page in PAGES]

    assert [answer.status_code for answer in answers] == [200] * len(PAGES)
    assert all("banshui · 运营控制台" in answer.text for answer in answers)


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("operator", 403)])
async def test_only_an_admin_may_see_the_users_page(
    sandbox: Sandbox, cast: Cast, role: str, status: int
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(getattr(cast, role), PASSWORD)
        refused = await console.get("/users")
        listed = await console.get("/enterprises")

    assert refused.status_code == status
    assert "你的角色没有这项权限" in refused.text
    assert 'href="/users"' not in listed.text


async def test_the_admin_sees_and_adds_users(sandbox: Sandbox, cast: Cast) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.admin, PASSWORD)
        page = await console.get("/users")
        added = await console.post(
            "/users",
            {
                "name": "吴十",
                "role": "viewer",
                "tenant_id": str(sandbox.tenant_id),
                "password": "Another-pass-2026",
                "password_again": "Another-pass-2026",
            },
        )

    async with Console(sandbox.stack.url) as newcomer:
        signed = await newcomer.sign_in("吴十", "Another-pass-2026")

    assert page.status_code == 200 and cast.viewer in page.text
    assert added.status_code == 303
    assert signed.status_code == 303


async def test_a_viewer_cannot_change_anything(sandbox: Sandbox, cast: Cast) -> None:
    a = await enterprise_id(sandbox, A.tax_id)
    before = await businesses_of_a(sandbox)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        form = await console.get(f"/enterprises/{a}/accounts/new")
        changed = await console.post(
            f"/enterprises/{a}/business",
            {"account_id": "1", "default_business": "issue"},
        )
        tested = await console.post(
            f"/numbers/{await number_id(sandbox, S1)}/test-login"
        )
        page = await console.get("/enterprises")

    assert form.status_code == 403
    assert changed.status_code == 403
    assert tested.status_code == 403
    assert "新增账号" not in page.text and "设为默认" not in page.text
    assert await businesses_of_a(sandbox) == before


async def test_a_post_without_the_sessions_csrf_token_changes_nothing(
    sandbox: Sandbox, cast: Cast
) -> None:
    a = await enterprise_id(sandbox, A.tax_id)
    before = await businesses_of_a(sandbox)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        missing = await console.post(
            f"/enterprises/{a}/business",
            {"account_id": "1", "default_business": "issue"},
            csrf=False,
        )
        forged = await console.post(
            f"/enterprises/{a}/business",
            {"account_id": "1", "default_business": "issue", "csrf_token": "x" * 43},
            csrf=False,
        )

    assert missing.status_code == 403 and forged.status_code == 403
    assert "表单已过期" in missing.text
    assert await businesses_of_a(sandbox) == before


async def test_an_operator_of_another_tenant_sees_none_of_this_one(
    sandbox: Sandbox, cast: Cast, outsider: str
) -> None:
    a = await enterprise_id(sandbox, A.tax_id)
    s1 = await number_id(sandbox, S1)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(outsider, PASSWORD)
        listed = await console.get("/enterprises")
        persons = await console.get("/persons")
        form = await console.get(f"/enterprises/{a}/accounts/new")
        inbox = await console.get(f"/inbox?number={s1}")
        tested = await console.post(f"/numbers/{s1}/test-login")

        audit = await console.get("/audit")

    assert "深圳市另一戊有限公司" in listed.text
    assert A.name not in listed.text
    assert "张三" not in persons.text
    assert [form.status_code, inbox.status_code, tested.status_code] == [404] * 3
    assert "operator:周九" in audit.text
    assert "operator:王五" not in audit.text and "示例集团" not in audit.text


async def test_the_platform_admin_sees_every_tenant(
    sandbox: Sandbox, cast: Cast, outsider: str
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.admin, PASSWORD)
        listed = await console.get("/enterprises")

    assert "深圳市另一戊有限公司" in listed.text and A.name in listed.text


async def test_a_tenants_admin_adds_users_to_that_tenant_only(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    await add_operator(
        runtime.db,
        runtime.clock,
        name="郑十一",
        password=PASSWORD,
        role=Role.ADMIN,
        tenant_id=sandbox.tenant_id,
        actor="test",
    )
    fields = {
        "name": "王十二",
        "role": "admin",
        "password": "Another-pass-2026",
        "password_again": "Another-pass-2026",
    }

    async with Console(sandbox.stack.url) as console:
        await console.sign_in("郑十一", PASSWORD)
        page = await console.get("/users")
        platform = await console.post("/users", fields | {"tenant_id": ""})

    assert cast.admin not in page.text  # the platform's admin is not theirs to see
    assert '<option value="">全平台</option>' not in page.text
    assert platform.status_code == 303  # no tenant chosen: their own
    async with runtime.db.session() as session:
        made = await session.scalar(select(Operator).where(Operator.name == "王十二"))
    assert made is not None and made.tenant_id == sandbox.tenant_id
