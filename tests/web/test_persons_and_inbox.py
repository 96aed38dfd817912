"""自然人 shows each number's onboarding checklist and today's SMS against 20;
收件箱 shows codes to operators, never to viewers; viewers see numbers masked."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.audit.models import AuditEntry
from banshui.demo.cast import S1, S3, ZHANG_SAN, A
from banshui.numbers.binding import bind
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source
from banshui.web.console.inbox import NOT_FROM_BUREAU

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
NEW_NUMBER = "13188888888"
LOGIN_SMS = "【深圳税务】您的登录验证码：418207，请确认是本人操作，有效期为5分钟。"
_identities = itertools.count(1)


async def receive(
    sandbox: Sandbox, text: str, number: str = S3, sender: str = "12366"
) -> None:
    runtime = sandbox.stack.runtime
    source = await find_source(runtime.db, "smsforwarder", "sim-s3")
    sms = ReceivedSms(
        sender=sender, text=text, identity=f"web-{next(_identities)}", number=number
    )
    await runtime.inbox.store(source, Verified(None, ""), [sms])


async def number_id(sandbox: Sandbox, msisdn: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(select(Number.id).where(Number.msisdn == msisdn))
    assert found is not None
    return found


async def viewed_by(sandbox: Sandbox, actor: str) -> list[str]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.action == "code.viewed", AuditEntry.actor == actor
            )
        )
        return [row or "" for row in rows]


async def test_a_viewer_sees_numbers_masked_and_an_operator_sees_them_whole(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as viewer:
        await viewer.sign_in(cast.viewer, PASSWORD)
        masked = await viewer.get("/persons")
    async with Console(sandbox.stack.url) as operator:
        await operator.sign_in(cast.operator, PASSWORD)
        whole = await operator.get("/persons")

    assert S1 not in masked.text and ZHANG_SAN.real_phone not in masked.text
    assert "199****0001" in masked.text and "138****8000" in masked.text
    assert S1 in whole.text and ZHANG_SAN.real_phone in whole.text
    assert ZHANG_SAN.id_number not in whole.text  # ID numbers are always masked


async def test_todays_sms_are_shown_against_twenty(
    sandbox: Sandbox, cast: Cast
) -> None:
    inbox = sandbox.stack.runtime.inbox
    for _ in range(3):
        await inbox.expect_code(S1, "test")
        await inbox.give_up("test")  # one code awaited at a time; each counts

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        page = await console.get("/persons")

    s1_card = page.text[page.text.index("199****0001") :]
    assert 'aria-valuenow="3"' in s1_card[:2000]
    assert "3/20" in s1_card[:2000]


async def test_the_checklist_follows_a_number_from_binding_to_the_bureau(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    customer = await add_customer(runtime.db, runtime.vault, runtime.clock, "示例号商")
    await bind(
        runtime.db,
        runtime.clock,
        number=NEW_NUMBER,
        customer_id=customer.customer.id,
        bound_phone=ZHANG_SAN.real_phone,
        tax_id=A.tax_id,
        tenant_id=sandbox.tenant_id,
        actor="test",
    )
    new = await number_id(sandbox, NEW_NUMBER)
    async with runtime.db.session() as session:
        zhang = await session.scalar(select(Person.id).where(Person.name == "张三"))

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        waiting = await console.get("/persons")
        await console.post(f"/numbers/{new}/refused", {"region": "31"})
        refused = await console.get("/persons")
        unconfirmed = await console.post(
            f"/numbers/{new}/added", {"person_id": str(zhang)}
        )
        added = await console.post(
            f"/numbers/{new}/added",
            {"person_id": str(zhang), "not_default": "on", "face_checked": "on"},
        )
        after = await console.get("/persons")

    assert "待在税局添加的号码" in waiting.text
    assert "其他手机号" in waiting.text and "默认手机号选「否」" in waiting.text
    assert "上海税局拒绝添加" in refused.text
    assert "请切换到其他地区（如深圳、浙江、湖北）的税局添加（R10）" in refused.text
    assert unconfirmed.status_code == 422
    assert added.status_code == 303
    assert "待在税局添加的号码" not in after.text
    card = after.text[after.text.index(f'id="n-{new}"') :]
    assert f"{cast.operator} 于" in card[:4000]
    assert "已作为其他手机号添加，默认手机号 = 否" in card[:4000]


async def test_an_operator_sees_the_code_and_the_view_is_audited(
    sandbox: Sandbox, cast: Cast
) -> None:
    await receive(sandbox, LOGIN_SMS)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        page = await console.get("/inbox")

    assert '<div class="sms-code">418207</div>' in page.text
    assert "<mark>418207</mark>" in page.text
    assert await viewed_by(sandbox, "console:王五")


async def test_a_viewer_sees_no_code_and_no_whole_number(
    sandbox: Sandbox, cast: Cast
) -> None:
    await receive(sandbox, LOGIN_SMS.replace("418207", "562913"))

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        page = await console.get("/inbox")
        audit = await console.get("/audit")

    assert "562913" not in page.text and "418207" not in page.text
    assert S3 not in page.text and "199****0003" in page.text
    assert "查看者不显示验证码" in page.text
    assert S3 not in audit.text and "199****0003" in audit.text
    assert await viewed_by(sandbox, "console:赵六") == []


async def test_the_inbox_of_one_number_shows_only_its_sms(
    sandbox: Sandbox, cast: Cast
) -> None:
    s1 = await number_id(sandbox, S1)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        page = await console.get(f"/inbox?number={s1}")

    assert "还没有短信" in page.text
    assert "418207" not in page.text


async def test_an_sms_text_is_shown_escaped(sandbox: Sandbox, cast: Cast) -> None:
    await receive(sandbox, "【通知】<script>alert(1)</script>&amp;")

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        page = await console.get("/inbox")

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;" in page.text


async def test_a_bureau_text_from_another_sender_is_marked_as_not_the_bureaus(
    sandbox: Sandbox, cast: Cast
) -> None:
    await receive(sandbox, LOGIN_SMS.replace("418207", "730162"), sender="13912345678")

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        page = await console.get("/inbox")

    after_sender = page.text[page.text.index("13912345678") :]
    card = after_sender[: after_sender.index("</article>")]
    assert NOT_FROM_BUREAU in card
    assert "税局登录验证码" not in card
