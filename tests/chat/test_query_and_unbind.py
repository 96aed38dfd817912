"""查询小号 and 解绑小号: the round trip, the owner, today's SMS and the warnings."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banshui.chat.answers import Answer
from banshui.chat.commands import answer
from banshui.chat.parsing import Verb
from banshui.demo.cast import S1, seed_banshui
from banshui.numbers.binding import set_service_end
from banshui.numbers.customers import NewCustomer
from banshui.runtime import Runtime

from .world import (
    REAL_PHONE,
    SUB_NUMBER,
    TAX_ID,
    audit_actions,
    bind_text,
    number_row,
    row_counts,
)


async def test_bind_then_query_then_unbind_round_trips(
    runtime: Runtime, customer: NewCustomer
) -> None:
    assert (await answer(runtime, bind_text(customer), actor="运维小王")).ok

    queried = await answer(runtime, f"查询小号#{SUB_NUMBER}", actor="运维小王")
    unbound = await answer(runtime, f"解绑小号#{SUB_NUMBER}", actor="运维小王")
    after = await answer(runtime, f"查询小号#{SUB_NUMBER}", actor="运维小王")

    assert queried.ok and not queried.changed
    assert queried.text.splitlines() == [
        f"小号 {SUB_NUMBER}",
        "客户：示例号商",
        "真实手机号：138****8000",
        f"税号：{TAX_ID}",
        "服务到期：未设置",
        "归属自然人：未知",
        "今日短信：0/20",
    ]
    assert unbound.text == f"解绑小号成功\n小号 {SUB_NUMBER} 已与客户 示例号商 解除绑定"
    assert "客户：未绑定" in after.text
    assert "真实手机号：无" in after.text
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None
    assert (row.customer_id, row.bound_phone, row.tax_id) == (None, None, None)
    actions = [action for _, action, _ in await audit_actions(runtime)]
    assert actions[-2:] == ["number.bound", "number.unbound"]


async def test_the_query_names_the_owner_at_the_bureau_and_todays_sms(
    runtime: Runtime,
) -> None:
    await seed_banshui(runtime)
    first = await runtime.inbox.expect_code(S1, waiter="test")
    await runtime.inbox.wait_for_code(first, 0)  # its code never came
    await runtime.inbox.expect_code(S1, waiter="test")

    replied = await answer(runtime, f"查询小号#{S1}", actor="test")

    assert "归属自然人：张三" in replied.text
    assert "今日短信：2/20" in replied.text


async def test_the_query_warns_before_the_service_ends(
    runtime: Runtime, customer: NewCustomer
) -> None:
    assert (await answer(runtime, bind_text(customer), actor="test")).ok
    await set_service_end(
        runtime.db,
        runtime.clock,
        number=SUB_NUMBER,
        ends_on=date(2026, 12, 20),
        actor="test",
    )

    replied = await answer(runtime, f"查询小号#{SUB_NUMBER}", actor="test")

    assert "服务到期：2026-12-20（服务 17 天后到期）" in replied.text


async def test_unbinding_a_number_that_is_not_bound_is_refused(
    runtime: Runtime, customer: NewCustomer
) -> None:
    assert (await answer(runtime, bind_text(customer), actor="test")).ok
    assert (await answer(runtime, f"解绑小号#{SUB_NUMBER}", actor="test")).ok
    before = await row_counts(runtime)

    again = await answer(runtime, f"解绑小号#{SUB_NUMBER}", actor="test")

    assert again == Answer(text=f"解绑失败：小号 {SUB_NUMBER} 未绑定", ok=False)
    assert await row_counts(runtime) == before


async def test_a_number_banshui_does_not_know_is_refused_by_query_and_unbind(
    runtime: Runtime,
) -> None:
    queried = await answer(runtime, f"查询小号#{SUB_NUMBER}", actor="test")
    unbound = await answer(runtime, f"解绑小号#{SUB_NUMBER}", actor="test")

    assert queried.text == f"查询失败：banshui 中没有小号 {SUB_NUMBER}"
    assert unbound.text == f"解绑失败：banshui 中没有小号 {SUB_NUMBER}"


async def test_a_bad_number_is_named_by_query_and_unbind(runtime: Runtime) -> None:
    queried = await answer(runtime, "查询小号#12345", actor="test")
    unbound = await answer(runtime, "解绑小号#", actor="test")

    assert queried.text == "查询失败：小号 12345 不是有效的中国大陆手机号"
    assert unbound.text.startswith("解绑失败：解绑小号需要 1 项")


async def test_an_unknown_command_answers_with_the_list_of_commands(
    runtime: Runtime,
) -> None:
    replied = await answer(runtime, "@对话机器人 你好", actor="test")

    assert not replied.ok
    assert replied.text.splitlines() == [
        "未知命令。可用命令：",
        "绑定小号#税号#appkey#appsecret#真实手机号#小号",
        "解绑小号#小号",
        "查询小号#小号",
    ]


_KNOWN = [SUB_NUMBER, TAX_ID, REAL_PHONE, "918888888888888888", "+8613188888888"]


def _texts(customer: NewCustomer) -> st.SearchStrategy[str]:
    """Any text, and commands whose fields are any text or real ones of the cast."""
    known = [*_KNOWN, customer.customer.app_key, customer.app_secret]
    field = st.one_of(st.text(max_size=30), st.sampled_from(known))
    command = st.builds(
        lambda verb, separator, fields: separator.join([verb, *fields]),
        st.sampled_from([verb.value for verb in Verb]),
        st.sampled_from(["#", "＃", " # "]),
        st.lists(field, max_size=7),
    )
    return st.one_of(st.text(), command)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_the_command_always_answers_whatever_the_text(
    runtime: Runtime, customer: NewCustomer, data: st.DataObject
) -> None:
    text = data.draw(_texts(customer))

    replied = await answer(runtime, text, actor="hypothesis")

    assert isinstance(replied, Answer)
    assert replied.text.strip()
    assert customer.app_secret not in replied.text
