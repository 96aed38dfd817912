"""The 新增 form adds e-tax accounts; the page shows 开票人, defaults and R9 warnings;
secrets are taken, never shown back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from banshui.accounts.models import Account, AccountEnterprise, Enterprise, Person
from banshui.accounts.service import PROVIDER_SECRET_PURPOSE, Registry
from banshui.audit.models import AuditEntry
from banshui.demo.cast import LI_SI, S1, S2, S3, ZHANG_SAN, A, B, C, D

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
APP_SECRET = "HOSTED-SECRET-7Q2W9E4R"
HOSTED_NUMBER = "13188888888"  # a 小号 sold by another provider, new to banshui
# Valid 统一社会信用代码 in 深圳 that the cast does not use.
SPARE_TAX_IDS = ["91440300MA5FE0050Q", "91440300MA5FF0060H", "91440300MA5FG0070A"]


async def enterprise_id(sandbox: Sandbox, tax_id: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(
            select(Enterprise.id).where(Enterprise.tax_id == tax_id)
        )
    assert found is not None
    return found


async def services_of(sandbox: Sandbox, tax_id: str) -> list[AccountEnterprise]:
    eid = await enterprise_id(sandbox, tax_id)
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AccountEnterprise)
            .where(AccountEnterprise.enterprise_id == eid)
            .order_by(AccountEnterprise.id)
        )
        return list(rows)


async def person_id(sandbox: Sandbox, name: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == name))
    assert found is not None
    return found


def new_account(**changes: str) -> dict[str, str]:
    fields = {
        "login_type": "sub_number",
        "account": S2,
        "password": ZHANG_SAN.password,
        "identity_code": "03",
        "default_business": "issue",
    }
    return fields | changes


async def test_an_operator_adds_an_account_for_a_number_of_the_person(
    sandbox: Sandbox, cast: Cast
) -> None:
    b = await enterprise_id(sandbox, B.tax_id)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        form = await console.get(f"/enterprises/{b}/accounts/new")
        added = await console.post(
            f"/enterprises/{b}/accounts/new", new_account(is_default="on")
        )
        page = await console.get(added.headers["location"])

    assert form.status_code == 200
    assert "03 办税员" in form.text and "09 开票员" in form.text
    assert added.status_code == 303
    assert added.headers["location"] == f"/enterprises?done=account_added#e-{b}"
    services = await services_of(sandbox, B.tax_id)
    # One default account per enterprise and business: 张三's S1 still receives.
    assert [(s.default_business, s.is_default) for s in services] == [
        ("receive", True),
        ("issue", True),
    ]
    assert "已新增电子税局账号" in page.text
    assert S2 in page.text
    async with sandbox.stack.runtime.db.session() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor == "console:王五")
            )
        )
    assert "account.serve" in actions


async def test_each_account_shows_who_will_appear_as_the_issuer(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        page = await console.get("/enterprises")

    d_card = page.text[page.text.index(D.name) :]
    assert "<th>开票人</th>" in page.text
    assert f'<td data-label="开票人">{LI_SI.name}</td>' in d_card
    assert "19*" not in page.text  # masked as 199****0003, never cut
    assert "199****0003" in d_card


async def test_an_account_serving_both_businesses_is_warned_about(
    sandbox: Sandbox, cast: Cast
) -> None:
    d = await enterprise_id(sandbox, D.tax_id)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        # 张三's S1 account (收票 for A, B, C) now also issues for D.
        await console.post(
            f"/enterprises/{d}/accounts/new",
            new_account(account=S1, default_business="issue"),
        )
        page = await console.get("/enterprises")

    assert "该账号既用于开票也用于收票，建议开票与收票使用不同账号（R9）" in page.text


async def test_an_account_serving_more_than_five_enterprises_is_warned_about(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    ids = []
    for index, tax_id in enumerate(SPARE_TAX_IDS):
        made = await registry.add_enterprise(
            sandbox.tenant_id, tax_id, f"深圳市示例{index}号有限公司"
        )
        ids.append(made.id)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        for eid in ids:
            await console.post(
                f"/enterprises/{eid}/accounts/new",
                new_account(account=S1, default_business="receive"),
            )
        page = await console.get("/enterprises")

    assert "该账号服务 7 家企业，建议一个账号最多服务 5 家（R9）" in page.text


async def test_an_enterprise_without_a_receiving_account_is_warned_about(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        page = await console.get("/enterprises")

    d_card = page.text[page.text.index(D.name) :]
    assert "没有默认业务为收票管理的账号" in d_card[: d_card.index("</section>")]


async def test_the_default_account_and_business_are_set_per_enterprise(
    sandbox: Sandbox, cast: Cast
) -> None:
    c = await enterprise_id(sandbox, C.tax_id)
    before = await services_of(sandbox, C.tax_id)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        business = await console.post(
            f"/enterprises/{c}/business",
            {"account_id": str(before[0].account_id), "default_business": "issue"},
        )
        wrong = await console.post(
            f"/enterprises/{c}/default", {"account_id": "999999"}
        )

    after = await services_of(sandbox, C.tax_id)
    assert business.status_code == 303
    assert [s.default_business for s in after] == ["issue"]
    assert wrong.status_code == 404
    assert [s.is_default for s in after] == [s.is_default for s in before]


async def test_a_wrong_field_is_named_in_chinese_and_nothing_is_written(
    sandbox: Sandbox, cast: Cast
) -> None:
    a = await enterprise_id(sandbox, A.tax_id)
    async with sandbox.stack.runtime.db.session() as session:
        accounts_before = len(list(await session.scalars(select(Account.id))))

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        number = await console.post(
            f"/enterprises/{a}/accounts/new", new_account(account="12345")
        )
        role = await console.post(
            f"/enterprises/{a}/accounts/new", new_account(identity_code="04")
        )
        stranger = await console.post(
            f"/enterprises/{a}/accounts/new",
            new_account(account=S3, person_id=str(await person_id(sandbox, "张三"))),
        )

    assert number.status_code == 422
    assert "账户应为 11 位中国大陆手机号码" in number.text
    assert 'class="field-error"' in number.text
    assert ZHANG_SAN.password not in number.text  # the password is not echoed
    assert role.status_code == 422 and "请选择身份" in role.text
    assert stranger.status_code == 422
    assert "该号码在税局属于「李四」，不是所选的自然人" in stranger.text
    async with sandbox.stack.runtime.db.session() as session:
        accounts_after = len(list(await session.scalars(select(Account.id))))
    assert accounts_after == accounts_before


async def test_an_app_secret_is_taken_and_never_shown_back(
    sandbox: Sandbox, cast: Cast
) -> None:
    a = await enterprise_id(sandbox, A.tax_id)
    hosted = {
        "provider_url": "https://qixiangyun.example/api",
        "app_key": "QXY12345",
        "app_secret": APP_SECRET,
    }

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        on_local = await console.post(
            f"/enterprises/{a}/accounts/new", new_account(**hosted)
        )
        added = await console.post(
            f"/enterprises/{a}/accounts/new",
            new_account(
                account=HOSTED_NUMBER,
                person_id=str(await person_id(sandbox, "张三")),
                **hosted,
            ),
        )
        pages = [await console.get(page) for page in ("/enterprises", "/persons")]
        audit = await console.get("/audit")

    assert on_local.status_code == 409  # S2's account gets its codes here
    assert added.status_code == 303, added.text
    for page in [*pages, audit]:
        assert APP_SECRET not in page.text
        assert ZHANG_SAN.password not in page.text
    assert "QXY12345" in pages[1].text and "appSecret 已保存" in pages[1].text


async def test_another_password_is_refused_unless_the_operator_says_it_changed(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    c = await enterprise_id(sandbox, C.tax_id)
    changed = "Demo-zhangsan-2027"

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        refused = await console.post(
            f"/enterprises/{c}/accounts/new", new_account(password=changed)
        )
        accepted = await console.post(
            f"/enterprises/{c}/accounts/new",
            new_account(password=changed, update_password="on"),
        )

    assert refused.status_code == 422
    assert "密码与「张三」已保存的电子税局密码不同" in refused.text
    assert accepted.status_code == 303
    assert "done=password_changed" in accepted.headers["location"]
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    async with runtime.db.session() as session:
        zhang = await session.get(Person, await person_id(sandbox, "张三"))
    assert zhang is not None and registry.password_of(zhang) == changed


async def test_an_account_is_added_without_a_password_the_person_has_stored(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    made = await registry.add_enterprise(
        sandbox.tenant_id, "91440300MA5FJ0090U", "深圳市示例壬有限公司"
    )
    without = {k: v for k, v in new_account().items() if k != "password"}
    async with runtime.db.session() as session:
        zhang = await session.get(Person, await person_id(sandbox, "张三"))
    assert zhang is not None
    stored = registry.password_of(zhang)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        form = await console.get(f"/enterprises/{made.id}/accounts/new")
        unticked = await console.post(
            f"/enterprises/{made.id}/accounts/new", without | {"update_password": "on"}
        )
        added = await console.post(f"/enterprises/{made.id}/accounts/new", without)

    # No password of its own (R2): the field may stay empty.
    password_input = form.text[form.text.index('id="password"') :]
    assert "required" not in password_input[: password_input.index(">")]
    # 更新密码 without the new password says what is missing, and adds nothing.
    assert unticked.status_code == 422
    assert "勾选「更新密码」时，请填写该自然人在税局的新密码。" in unticked.text
    assert added.status_code == 303, added.text
    assert "done=account_added" in added.headers["location"]
    services = await services_of(sandbox, "91440300MA5FJ0090U")
    assert [(s.default_business, s.identity_code) for s in services] == [
        ("issue", "03")
    ]
    async with runtime.db.session() as session:
        zhang = await session.get(Person, await person_id(sandbox, "张三"))
    assert zhang is not None and registry.password_of(zhang) == stored


async def test_an_app_secret_can_only_be_replaced(sandbox: Sandbox, cast: Cast) -> None:
    runtime = sandbox.stack.runtime
    async with runtime.db.session() as session:
        hosted = await session.scalar(
            select(Account).where(Account.provider_app_key == "QXY12345")
        )
    assert hosted is not None
    replaced = {
        "provider_url": "https://qixiangyun.example/api",
        "app_key": "QXY67890",
        "app_secret": "REPLACED-SECRET-3E5T",
    }

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        answer = await console.post(f"/accounts/{hosted.id}/provider", replaced)
        page = await console.get("/persons")

    assert answer.status_code == 303
    assert "QXY67890" in page.text and "QXY12345" not in page.text
    assert "REPLACED-SECRET-3E5T" not in page.text
    async with runtime.db.session() as session:
        row = await session.get(Account, hosted.id)
    assert row is not None and row.provider_app_secret_sealed is not None
    opened = runtime.vault.open(row.provider_app_secret_sealed, PROVIDER_SECRET_PURPOSE)
    assert opened == "REPLACED-SECRET-3E5T"
