"""新增企业 checks the 统一社会信用代码 by the registry's rules and says what is wrong
in Chinese under the field; the list is per tenant and can be searched."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from banshui.accounts.models import Enterprise
from banshui.accounts.tenants import add_tenant
from banshui.audit.models import AuditEntry
from banshui.demo.cast import A, C

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
# Valid codes of fictitious companies that the cast does not use.
XIAMEN = "91350200MA3XK0010B"  # 厦门 has its own bureau
SHANGHAI = "91310000MA1FL0020Q"
NINGBO = "91330200MA2AB00300"
SHENZHEN = "91440300MA5FH00803"


async def enterprises_named(sandbox: Sandbox, name: str) -> list[Enterprise]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(select(Enterprise).where(Enterprise.name == name))
        return list(rows)


async def enterprise_count(sandbox: Sandbox) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        return int(await session.scalar(select(func.count(Enterprise.id))) or 0)


def error_under(page: str, field: str) -> str:
    found = re.search(
        rf'<p class="field-message" id="{field}-error"[^>]*>([^<]*)<', page
    )
    assert found is not None, f"no error under {field}"
    return found.group(1)


async def test_an_operator_adds_an_enterprise_and_its_region_follows_the_code(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        form = await console.get("/enterprises/new")
        added = await console.post(
            "/enterprises/new", {"tax_id": XIAMEN.lower(), "name": "厦门示例庚有限公司"}
        )
        page = await console.get(added.headers["location"])

    assert form.status_code == 200 and "统一社会信用代码" in form.text
    assert added.status_code == 303
    [made] = await enterprises_named(sandbox, "厦门示例庚有限公司")
    assert made.tax_id == XIAMEN and made.region == "3502"
    assert made.tenant_id == sandbox.tenant_id
    assert (
        added.headers["location"] == f"/enterprises?done=enterprise_added#e-{made.id}"
    )
    assert "已新增企业" in page.text and "厦门税局" in page.text
    async with sandbox.stack.runtime.db.session() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.subject == f"enterprise:{made.id}")
        )
    assert entry is not None and entry.action == "enterprise.add"
    assert entry.actor == f"console:{cast.operator}" and entry.client == "127.0.0.1"


async def test_a_region_can_be_named_instead_of_the_one_the_code_gives(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        await console.post(
            "/enterprises/new",
            {"tax_id": SHANGHAI, "name": "上海示例辛有限公司", "region": "33"},
        )

    [made] = await enterprises_named(sandbox, "上海示例辛有限公司")
    assert made.region == "33" and made.region_overridden


@pytest.mark.parametrize(
    ("tax_id", "said"),
    [
        ("918888888888888888", "校验位（第 18 位）不对"),  # the guide's placeholder
        ("9144030", "应为 18 位，现在是 7 位"),
        ("91440300MA5FA0010I", "只能由数字和大写字母组成"),
        ("91990300MA5FA0010U", "第 3–8 位不是已知的"),
        ("", "请填写统一社会信用代码"),
    ],
)
async def test_a_wrong_code_is_named_in_chinese_under_its_field_and_nothing_is_added(
    sandbox: Sandbox, cast: Cast, tax_id: str, said: str
) -> None:
    before = await enterprise_count(sandbox)
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        refused = await console.post(
            "/enterprises/new", {"tax_id": tax_id, "name": "错号示例有限公司"}
        )

    assert refused.status_code == 422
    assert said in error_under(refused.text, "tax_id")
    assert 'value="错号示例有限公司"' in refused.text  # the form keeps what was typed
    assert await enterprise_count(sandbox) == before


async def test_a_missing_name_is_named_under_its_field(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        refused = await console.post("/enterprises/new", {"tax_id": NINGBO})

    assert refused.status_code == 422
    assert error_under(refused.text, "name") == "请填写企业名称。"


async def test_an_enterprise_already_in_the_tenant_is_refused(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        refused = await console.post(
            "/enterprises/new", {"tax_id": A.tax_id, "name": "重复的企业"}
        )

    assert refused.status_code == 409
    assert error_under(refused.text, "tax_id") == "这家企业已在该租户登记。"
    assert await enterprises_named(sandbox, "重复的企业") == []


async def test_a_tenants_operator_adds_to_their_own_tenant_whatever_the_form_says(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "旁人集团", actor="test")
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        await console.post(
            "/enterprises/new",
            {
                "tax_id": SHENZHEN,
                "name": "深圳示例壬有限公司",
                "tenant_id": str(other.tenant.id),
            },
        )

    [made] = await enterprises_named(sandbox, "深圳示例壬有限公司")
    assert made.tenant_id == sandbox.tenant_id


async def test_the_platform_admin_chooses_the_tenant(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "平台新集团", actor="test")
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.admin, PASSWORD)
        unchosen = await console.post(
            "/enterprises/new", {"tax_id": NINGBO, "name": "宁波示例癸有限公司"}
        )
        chosen = await console.post(
            "/enterprises/new",
            {
                "tax_id": NINGBO,
                "name": "宁波示例癸有限公司",
                "tenant_id": str(other.tenant.id),
            },
        )

    assert unchosen.status_code == 422
    assert error_under(unchosen.text, "tenant_id") == "请选择租户。"
    assert chosen.status_code == 303
    [made] = await enterprises_named(sandbox, "宁波示例癸有限公司")
    assert made.tenant_id == other.tenant.id and made.region == "3302"


async def test_a_viewer_may_not_add_an_enterprise(sandbox: Sandbox, cast: Cast) -> None:
    before = await enterprise_count(sandbox)
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        form = await console.get("/enterprises/new")
        posted = await console.post(
            "/enterprises/new", {"tax_id": NINGBO, "name": "查看者的企业"}
        )
        listed = await console.get("/enterprises")

    assert form.status_code == 403 and posted.status_code == 403
    assert 'href="/enterprises/new"' not in listed.text
    assert await enterprise_count(sandbox) == before


async def test_enterprises_are_found_by_name_or_by_part_of_the_code(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        by_name = await console.http.get("/enterprises", params={"q": "武汉"})
        by_code = await console.http.get(
            "/enterprises", params={"q": A.tax_id[-6:].lower()}
        )
        nothing = await console.http.get("/enterprises", params={"q": "100%"})

    assert C.name in by_name.text and A.name not in by_name.text
    assert A.name in by_code.text and C.name not in by_code.text
    assert "没有符合条件的企业" in nothing.text and "100%" in nothing.text


async def test_the_platform_admin_narrows_the_list_to_one_tenant(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "列表集团", actor="test")
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.admin, PASSWORD)
        everyone = await console.get("/enterprises")
        one = await console.http.get("/enterprises", params={"tenant": other.tenant.id})

    assert "列表集团" in everyone.text and A.name in everyone.text
    assert A.name not in one.text and "没有符合条件的企业" in one.text
