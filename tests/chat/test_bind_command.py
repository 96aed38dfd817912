"""绑定小号: each field checked in order, the first wrong one named, nothing written."""

from __future__ import annotations

import pytest

from banshui.chat.commands import answer
from banshui.numbers.customers import NewCustomer
from banshui.runtime import Runtime

from .world import (
    PLACEHOLDER_TAX_ID,
    REAL_PHONE,
    SUB_NUMBER,
    TAX_ID,
    audit_actions,
    bind_text,
    new_customer,
    number_row,
    row_counts,
)


async def test_the_guides_placeholder_tax_id_is_refused_for_its_check_character(
    runtime: Runtime, customer: NewCustomer
) -> None:
    replied = await answer(
        runtime, bind_text(customer, tax_id=PLACEHOLDER_TAX_ID), actor="test"
    )

    assert replied.text == "绑定失败：税号 918888888888888888 校验位错误"
    assert not replied.ok


@pytest.mark.parametrize(
    ("tax_id", "reason"),
    [
        ("91440300MA5FA001", "税号 91440300MA5FA001 应为 18 位，实为 16 位"),
        (
            "9144030OMA5FA0010M",
            "税号 9144030OMA5FA0010M 含有统一社会信用代码不能使用的字符",
        ),
        (
            "91990000MA5FA0010C",
            "税号 91990000MA5FA0010C 第 3–8 位不是已知的行政区划代码",
        ),
        ("", "税号为空"),
    ],
)
async def test_a_bad_tax_id_is_named_with_why(
    runtime: Runtime, customer: NewCustomer, tax_id: str, reason: str
) -> None:
    replied = await answer(runtime, bind_text(customer, tax_id=tax_id), actor="test")

    assert replied.text == f"绑定失败：{reason}"


async def test_an_unknown_appkey_is_refused_by_name(
    runtime: Runtime, customer: NewCustomer
) -> None:
    replied = await answer(runtime, bind_text(customer, app_key="88888888"), actor="t")

    assert replied.text == "绑定失败：appkey 88888888 不存在"


async def test_a_wrong_appsecret_is_refused_without_echoing_either_secret(
    runtime: Runtime, customer: NewCustomer
) -> None:
    wrong = "8888888888888888889RDT7H336974N5DP8G88888888"

    replied = await answer(runtime, bind_text(customer, app_secret=wrong), actor="t")

    assert replied.text == "绑定失败：appsecret 与 appkey 不匹配"
    assert wrong not in replied.text
    assert customer.app_secret not in replied.text


async def test_another_customers_appsecret_does_not_match(
    runtime: Runtime, customer: NewCustomer
) -> None:
    other = await new_customer(runtime, "另一号商")

    replied = await answer(
        runtime, bind_text(customer, app_secret=other.app_secret), actor="t"
    )

    assert replied.text == "绑定失败：appsecret 与 appkey 不匹配"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"real_phone": "12345678901"},
            "真实手机号 12345678901 不是有效的中国大陆手机号",
        ),
        (
            {"real_phone": "010-12345678"},
            "真实手机号 010-12345678 不是有效的中国大陆手机号",
        ),
        ({"real_phone": ""}, "真实手机号为空"),
        ({"sub_number": "1318888888"}, "小号 1318888888 不是有效的中国大陆手机号"),
        ({"sub_number": "abc"}, "小号 abc 不是有效的中国大陆手机号"),
        ({"sub_number": REAL_PHONE}, "小号不能与真实手机号相同"),
        ({"sub_number": "+86 138 0013 8000"}, "小号不能与真实手机号相同"),
    ],
)
async def test_a_bad_real_phone_or_sub_number_is_named_with_why(
    runtime: Runtime, customer: NewCustomer, changes: dict[str, str], reason: str
) -> None:
    replied = await answer(runtime, bind_text(customer, **changes), actor="test")

    assert replied.text == f"绑定失败：{reason}"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"tax_id": PLACEHOLDER_TAX_ID, "app_key": "88888888"}, "税号"),
        ({"app_key": "88888888", "real_phone": "1"}, "appkey"),
        ({"app_secret": "WRONG", "sub_number": "1"}, "appsecret"),
        ({"real_phone": "1", "sub_number": "2"}, "真实手机号"),
    ],
)
async def test_only_the_first_wrong_field_is_named(
    runtime: Runtime, customer: NewCustomer, changes: dict[str, str], named: str
) -> None:
    replied = await answer(runtime, bind_text(customer, **changes), actor="test")

    assert replied.text.startswith(f"绑定失败：{named}")


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("绑定小号#91440300MA5FA0010M#KEY#SECRET#13800138000", 4),
        ("绑定小号#1#2#3#4#5#6", 6),
    ],
)
async def test_too_few_or_too_many_fields_are_refused_with_the_count(
    runtime: Runtime, text: str, got: int
) -> None:
    replied = await answer(runtime, text, actor="test")

    assert replied.text == (
        "绑定失败：绑定小号需要 5 项"
        f"（绑定小号#税号#appkey#appsecret#真实手机号#小号），收到 {got} 项"
    )


async def test_a_secret_pasted_into_another_field_is_not_echoed(
    runtime: Runtime, customer: NewCustomer
) -> None:
    secret = customer.app_secret
    text = bind_text(customer, tax_id=secret, app_key=secret)

    replied = await answer(runtime, text, actor="test")

    assert replied.text == "绑定失败：税号 应为 18 位，实为 40 位"
    assert secret not in replied.text


async def test_a_refused_command_writes_nothing(
    runtime: Runtime, customer: NewCustomer
) -> None:
    before = await row_counts(runtime)
    refused = [
        bind_text(customer, tax_id=PLACEHOLDER_TAX_ID),
        bind_text(customer, app_key="88888888"),
        bind_text(customer, app_secret="WRONG"),
        bind_text(customer, real_phone="12345"),
        bind_text(customer, sub_number="12345"),
        bind_text(customer, sub_number=REAL_PHONE),
        "绑定小号#1#2",
        f"解绑小号#{SUB_NUMBER}",
        "你好",
    ]

    for text in refused:
        assert not (await answer(runtime, text, actor="test")).ok, text

    assert await row_counts(runtime) == before
    assert await number_row(runtime, SUB_NUMBER) is None


async def test_a_good_command_binds_the_sub_number_and_says_so(
    runtime: Runtime, customer: NewCustomer
) -> None:
    replied = await answer(runtime, bind_text(customer), actor="运维小王")

    assert replied.ok and replied.changed
    assert replied.text.splitlines()[0] == "绑定小号成功"
    assert "138****8000" in replied.text
    assert REAL_PHONE not in replied.text
    assert customer.app_secret not in replied.text
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None
    assert (row.customer_id, row.bound_phone, row.tax_id) == (
        customer.customer.id,
        REAL_PHONE,
        TAX_ID,
    )
    assert (row.is_sub_number, row.provider) == (True, "banshui")
    assert ("运维小王", "number.bound", f"number:{SUB_NUMBER}") in await audit_actions(
        runtime
    )


async def test_the_guides_full_width_form_binds_too(
    runtime: Runtime, customer: NewCustomer
) -> None:
    text = "@对话机器人 " + bind_text(customer).replace("#", " ＃ ")

    replied = await answer(runtime, text, actor="test")

    assert replied.ok, replied.text


async def test_a_sub_number_of_another_customer_is_not_taken_over(
    runtime: Runtime, customer: NewCustomer
) -> None:
    other = await new_customer(runtime, "另一号商")
    assert (await answer(runtime, bind_text(customer), actor="test")).ok
    before = await row_counts(runtime)

    replied = await answer(runtime, bind_text(other), actor="test")

    assert replied.text == f"绑定失败：小号 {SUB_NUMBER} 已绑定其他客户，请先解绑小号"
    assert await row_counts(runtime) == before


async def test_binding_again_with_the_same_fields_changes_and_audits_nothing(
    runtime: Runtime, customer: NewCustomer
) -> None:
    assert (await answer(runtime, bind_text(customer), actor="test")).ok
    before = await row_counts(runtime)

    again = await answer(runtime, bind_text(customer), actor="test")

    assert again.ok and not again.changed
    assert await row_counts(runtime) == before
