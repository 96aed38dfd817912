"""The console in a real Chromium: sign in, add an enterprise and an account, watch
an SMS arrive and a test login succeed, be refused a page, be locked out of the
query page, disable an operator, reset another's password, change one's own
password, be refused a duplicate ID number in Chinese; every main page fits a
390-pixel phone screen.

Screenshots go to ``screenshots/`` under pytest's tmp dir (desktop and phone).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

pytest.importorskip("playwright.async_api", reason="the playwright package is missing")

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from banshui.accounts.models import Enterprise
from banshui.demo.cast import S1, S2, S3, ZHANG_SAN, B
from banshui.numbers.models import Number
from banshui.operators.roles import Role
from banshui.operators.signin import REFUSED as SIGN_IN_REFUSED
from banshui.operators.users import add_operator
from banshui.query.pins import set_pin
from banshui.query.service import REFUSED
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
LOGIN_SMS = "【深圳税务】您的登录验证码：418207，请确认是本人操作，有效期为5分钟。"
PIN = "270415"
XIAMEN = "91350200MA3XK0010B"
NEW_PASSWORD = "Brand-new-pass-2027"
Snap = Callable[[Page, str], Awaitable[None]]
_names = itertools.count(1)


@pytest.fixture(scope="module")
def snap(screenshots: Path) -> Snap:
    async def take(page: Page, name: str) -> None:
        await page.screenshot(path=screenshots / f"{name}.png", full_page=True)

    return take


async def open_page(
    browser: Browser, sandbox: Sandbox, viewport: dict[str, int] = DESKTOP
) -> Page:
    context = await browser.new_context(
        base_url=sandbox.stack.url, viewport=viewport, locale="zh-CN"
    )
    return await context.new_page()


async def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.fill("#name", name)
    await page.fill("#password", password)
    await page.click("button:has-text('登录')")
    await page.wait_for_url(re.compile(r"/enterprises$"))


async def number_id(sandbox: Sandbox, msisdn: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(select(Number.id).where(Number.msisdn == msisdn))
    assert found is not None
    return found


async def new_operator(sandbox: Sandbox, role: Role) -> str:
    runtime = sandbox.stack.runtime
    made = await add_operator(
        runtime.db,
        runtime.clock,
        name=f"浏览器员工{next(_names)}",
        password=PASSWORD,
        role=role,
        tenant_id=sandbox.tenant_id,
        actor="test",
    )
    return made.name


async def fits_the_screen(page: Page) -> bool:
    """Nothing sticks out sideways: the page needs no horizontal scrolling."""
    wide = await page.evaluate("document.documentElement.scrollWidth")
    return int(wide) <= int(await page.evaluate("window.innerWidth"))


async def test_an_operator_signs_in_and_sees_the_enterprises_and_their_accounts(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox)
    await page.goto("/persons")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fpersons$"))
    await snap(page, "01-sign-in")

    await page.fill("#name", cast.operator)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('登录')")
    await expect(page).to_have_url(re.compile(r"/persons$"))
    await page.goto("/enterprises")

    await expect(page.locator("h1")).to_have_text("企业与电子税局账号")
    card = page.locator("section.card", has_text=B.name)
    await expect(card.locator("td[data-label=开票人]")).to_have_text(ZHANG_SAN.name)
    await expect(page.locator(".who")).to_contain_text(cast.operator)
    await expect(page.locator(".who")).to_contain_text("操作员 · 示例集团")
    await snap(page, "02-enterprises")
    await page.context.close()


async def test_an_operator_adds_an_enterprise_and_is_told_what_is_wrong_first(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.operator)
    await page.get_by_role("link", name="新增企业").click()

    await page.fill("#tax_id", "918888888888888888")  # the guide's placeholder
    await page.fill("#name", "厦门示例庚有限公司")
    await page.click("button:has-text('新增企业')")
    error = page.locator("#tax_id-error")
    await expect(error).to_contain_text("校验位（第 18 位）不对")
    await expect(page.locator("#name")).to_have_value("厦门示例庚有限公司")
    await snap(page, "03-new-enterprise-refused")

    await page.fill("#tax_id", XIAMEN)
    await page.click("button:has-text('新增企业')")

    await expect(page.locator(".notice.ok")).to_have_text("已新增企业。")
    card = page.locator("section.card", has_text="厦门示例庚有限公司")
    await expect(card).to_contain_text("厦门税局")
    await expect(card).to_contain_text("还没有电子税局账号")
    await page.fill("input[name=q]", "厦门")
    await page.click("button:has-text('查找')")
    await expect(page.locator("section.card[id^=e-]")).to_have_count(1)
    await snap(page, "04-enterprise-found")
    await page.context.close()


async def test_an_operator_adds_an_account_through_the_guides_form(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.operator)

    card = page.locator("section.card", has_text=B.name)
    await card.get_by_role("link", name="新增账号").click()
    await page.select_option("#login_type", "sub_number")
    await page.fill("#account", S2)
    # 张三's e-tax password is stored already: the account takes it (R2).
    await expect(page.locator("#password")).to_have_value("")
    await page.select_option("#identity_code", "03")
    await page.select_option("#default_business", "issue")
    await page.check("input[name=is_default]")
    await snap(page, "05-new-account")
    await page.click("button:has-text('添加账号')")

    await expect(page.locator(".notice.ok")).to_have_text("已新增电子税局账号。")
    row = card.locator("tr", has_text=S2)
    await expect(row.locator("td[data-label=开票人]")).to_have_text(ZHANG_SAN.name)
    await expect(row.locator("td[data-label=默认账号]")).to_have_text("默认账号")
    await expect(row.locator("select[name=default_business]")).to_have_value("issue")
    await page.context.close()


async def test_a_new_sms_appears_in_the_inbox_without_a_reload(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.operator)
    await page.goto("/inbox")
    await expect(page.locator("[data-live-for=inbox]")).to_have_text("实时更新中")
    loaded = await page.evaluate("performance.timeOrigin")

    runtime = sandbox.stack.runtime
    source = await find_source(runtime.db, "smsforwarder", "sim-s3")
    sms = ReceivedSms(sender="12366", text=LOGIN_SMS, identity="browser-1", number=S3)
    await runtime.inbox.store(source, Verified(None, ""), [sms])

    arrived = page.locator("article.sms").first
    await expect(arrived.locator(".sms-code")).to_have_text("418207", timeout=10_000)
    await expect(arrived.locator("mark")).to_have_text("418207")
    assert await page.evaluate("performance.timeOrigin") == loaded  # no reload
    await snap(page, "06-inbox")
    await page.context.close()


async def test_a_test_login_runs_for_real_and_is_seen_to_succeed(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    s1 = await number_id(sandbox, S1)
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.operator)
    await page.goto("/persons")
    added = page.locator(f"#n-{s1} [data-step=added]")
    await expect(added).not_to_have_class("done")  # nobody has ticked it yet
    await snap(page, "07-persons-before-test")

    await page.locator(f"#n-{s1}").get_by_role("button", name="测试登录").click()
    await expect(page).to_have_url(re.compile(r"/logins/[0-9a-f]{32}$"))
    timeline = page.locator("ol.timeline")
    await expect(timeline.locator("[data-event=succeeded]")).to_be_visible(
        timeout=30_000
    )
    await expect(timeline.locator("[data-event=released]")).to_be_visible()
    await expect(page.locator("[data-live-for=login]")).to_have_text("已结束")
    await snap(page, "08-test-login")

    await page.goto(f"/persons#n-{s1}")
    await expect(page.locator(f"#n-{s1} [data-step=tested]")).to_have_class("done")
    await expect(added).to_have_class("done")  # a login that worked proves it
    await snap(page, "09-persons")
    await page.context.close()


async def test_a_viewer_is_refused_the_users_page_and_sees_numbers_masked(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox, PHONE)
    await sign_in(page, cast.viewer)
    await expect(page.get_by_role("link", name="用户")).to_have_count(0)
    await snap(page, "10-enterprises-phone-viewer")

    answer = await page.goto("/users")

    assert answer is not None and answer.status == 403
    await expect(page.locator("h1")).to_have_text("没有权限")
    await snap(page, "11-refused-phone")
    await page.goto("/persons")
    await expect(page.locator("main")).not_to_contain_text(S1)
    await expect(page.locator("main")).to_contain_text("199****0001")
    await snap(page, "12-persons-phone-viewer")
    await page.context.close()


async def test_an_admin_reads_the_audit_log_and_the_users(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.admin)

    await page.get_by_role("link", name="审计日志").click()
    await expect(page.locator("table.rows")).to_contain_text("测试登录")
    await expect(page.locator("table.rows")).to_contain_text("登录控制台")
    await expect(page.locator("td[data-label=来源]").first).to_have_text("127.0.0.1")
    await snap(page, "13-audit")
    await page.get_by_role("link", name="登录请求").click()
    await expect(page.locator("table.rows")).to_contain_text("已释放")
    await snap(page, "14-logins")
    await page.get_by_role("link", name="用户").click()
    await expect(page.locator("table.rows")).to_contain_text(cast.viewer)
    await snap(page, "15-users")
    await page.context.close()


async def test_an_admin_disables_an_operator_whose_session_ends_at_once(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    name = await new_operator(sandbox, Role.OPERATOR)
    theirs = await open_page(browser, sandbox, PHONE)
    await sign_in(theirs, name)
    admin = await open_page(browser, sandbox)
    await sign_in(admin, cast.admin)

    await admin.goto("/users")
    row = admin.locator(f"tr[data-operator='{name}']")
    await row.get_by_role("button", name="停用").click()
    await expect(admin.locator(".notice.ok")).to_contain_text("已停用该用户")
    await expect(row.locator("td[data-label=状态]")).to_have_text("已停用")
    await snap(admin, "16-user-disabled")

    await theirs.get_by_role("link", name="自然人").click()
    await expect(theirs).to_have_url(re.compile(r"/login\?next=%2Fpersons$"))
    await theirs.fill("#name", name)
    await theirs.fill("#password", PASSWORD)
    await theirs.click("button:has-text('登录')")
    await expect(theirs.locator(".notice.bad")).to_have_text(SIGN_IN_REFUSED)
    await theirs.context.close()
    await admin.context.close()


async def test_an_operator_changes_their_own_password_and_is_signed_out_elsewhere(
    sandbox: Sandbox, browser: Browser, snap: Snap
) -> None:
    name = await new_operator(sandbox, Role.VIEWER)
    here = await open_page(browser, sandbox, PHONE)
    await sign_in(here, name)
    elsewhere = await open_page(browser, sandbox)
    await sign_in(elsewhere, name)

    await here.locator(".who").get_by_role("link", name=name).click()
    await here.fill("#current_password", PASSWORD)
    await here.fill("#new_password", NEW_PASSWORD)
    await here.fill("#new_password_again", NEW_PASSWORD)
    await snap(here, "19-own-password-phone")
    await here.click("button:has-text('修改密码')")

    await expect(here.locator(".notice.ok")).to_contain_text("已修改密码")
    await elsewhere.reload()
    await expect(elsewhere).to_have_url(re.compile(r"/login"))
    await sign_in(elsewhere, name, NEW_PASSWORD)
    await here.context.close()
    await elsewhere.context.close()


async def test_an_admin_resets_an_operators_password_and_their_session_ends(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    name = await new_operator(sandbox, Role.OPERATOR)
    theirs = await open_page(browser, sandbox, PHONE)
    await sign_in(theirs, name)
    admin = await open_page(browser, sandbox)
    await sign_in(admin, cast.admin)

    await admin.goto("/users")
    row = admin.locator(f"tr[data-operator='{name}']")
    await row.locator("summary", has_text="重置密码").click()
    await row.locator("input[name=password]").fill(NEW_PASSWORD)
    await row.locator("input[name=password_again]").fill(NEW_PASSWORD)
    await snap(admin, "17-reset-password")
    await row.get_by_role("button", name="确认重置").click()

    await expect(admin.locator(".notice.ok")).to_contain_text("已重置密码")
    assert NEW_PASSWORD not in await admin.content()
    await admin.get_by_role("link", name="审计日志").click()
    entry = admin.locator("tr", has_text="重置登录密码").first
    await expect(entry).to_contain_text(cast.admin)
    await expect(entry).to_contain_text("127.0.0.1")
    await theirs.get_by_role("link", name="自然人").click()
    await expect(theirs).to_have_url(re.compile(r"/login\?next=%2Fpersons$"))
    await theirs.fill("#name", name)
    await theirs.fill("#password", PASSWORD)
    await theirs.click("button:has-text('登录')")
    await expect(theirs.locator(".notice.bad")).to_have_text(SIGN_IN_REFUSED)
    await sign_in(theirs, name, NEW_PASSWORD)
    await theirs.context.close()
    await admin.context.close()


async def test_a_duplicate_id_number_is_refused_in_chinese_naming_the_field(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.operator)
    await page.goto("/persons")
    await page.locator("summary", has_text="新增自然人").click()
    await page.fill("#person-name", "张三（重复）")
    await page.fill("#id_number", ZHANG_SAN.id_number)
    await page.fill("#person-password", "Another-bureau-pass-1")
    await page.locator("form[action='/persons']").get_by_role("button").click()

    await expect(page.locator("h1")).to_have_text("无法完成")
    refusal = page.locator(".notice.bad")
    await expect(refusal).to_contain_text("身份证号")
    await expect(refusal).to_contain_text("只能登记一次")
    await expect(refusal).not_to_contain_text("ID number")
    await snap(page, "18-duplicate-id-number")
    await page.context.close()

    # The API keeps its English sentence, with the same code and field.
    answer = await sandbox.stack.http.post(
        "/api/v1/persons",
        json={
            "name": "张三（重复）",
            "id_number": ZHANG_SAN.id_number,
            "password": "Another-bureau-pass-1",
        },
        headers={"authorization": f"Bearer {sandbox.api_key}"},
    )
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["field"] == "id_number" and error["code"] == "conflict"
    assert error["message"].endswith("has this ID number already")


async def test_the_query_page_locks_a_number_after_five_wrong_pins(
    sandbox: Sandbox, browser: Browser, snap: Snap
) -> None:
    runtime = sandbox.stack.runtime
    await set_pin(runtime.db, runtime.clock, S3, PIN, actor="test")
    page = await open_page(browser, sandbox, PHONE)

    for wrong in range(5):
        await page.goto("/query")
        await page.fill("#number", S3)
        await page.fill("#pin", f"99887{wrong}")
        await page.click("button:has-text('查询')")
        await expect(page.locator(".notice.bad")).to_have_text(REFUSED)
    await page.fill("#number", S3)
    await page.fill("#pin", PIN)
    await page.click("button:has-text('查询')")

    await expect(page.locator(".notice.bad")).to_have_text(REFUSED)
    await expect(page.locator(".sms-code")).to_have_count(0)
    async with runtime.db.session() as session:
        locked = await session.scalar(
            select(Number.pin_locked_until).where(Number.msisdn == S3)
        )
    assert locked is not None
    await snap(page, "20-query-locked-phone")
    await page.context.close()


@pytest.mark.parametrize(("viewport", "label"), [(PHONE, "phone"), (DESKTOP, "desk")])
async def test_every_main_page_fits_the_screen(
    sandbox: Sandbox,
    cast: Cast,
    browser: Browser,
    snap: Snap,
    viewport: dict[str, int],
    label: str,
) -> None:
    async with sandbox.stack.runtime.db.session() as session:
        b = await session.scalar(select(Enterprise.id).where(Enterprise.name == B.name))
    pages = {
        "enterprises": "/enterprises",
        "new-enterprise": "/enterprises/new",
        "new-account": f"/enterprises/{b}/accounts/new",
        "persons": "/persons",
        "inbox": "/inbox",
        "logins": "/logins",
        "audit": "/audit",
        "users": "/users",
        "me": "/me",
        "query": "/query",
    }
    page = await open_page(browser, sandbox, viewport)
    await sign_in(page, cast.admin)

    too_wide = []
    for name, path in pages.items():
        await page.goto(path)
        await snap(page, f"{label}-{name}")
        if not await fits_the_screen(page):
            too_wide.append(name)

    assert too_wide == []
    await page.context.close()


async def test_a_test_login_in_a_live_session_says_it_did_not_go_through_sms(
    sandbox: Sandbox, cast: Cast, browser: Browser, snap: Snap
) -> None:
    s3 = await number_id(sandbox, S3)
    page = await open_page(browser, sandbox)
    await sign_in(page, cast.operator)
    notice = page.locator("[role=status]", has_text="登录成功")

    for _ in range(2):  # the second finds the first's session still live
        await page.goto(f"/persons#n-{s3}")
        button = page.locator(f"#n-{s3}").get_by_role("button", name="测试登录")
        await button.click()
        await expect(page).to_have_url(re.compile(r"/logins/[0-9a-f]{32}$"))
        await expect(notice).to_be_visible(timeout=30_000)

    await expect(notice).to_contain_text("复用了已登录的会话")
    await expect(notice).to_contain_text("没有经过短信通路")
    await snap(page, "08b-test-login-reused")
    await page.context.close()
