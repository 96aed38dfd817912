"""The registry's English refusals reach a console page in Chinese, naming the field;
the console's own Chinese sentences pass unchanged."""

from __future__ import annotations

from banshui.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from banshui.web.console.refusals import WITHOUT_FIELD, in_chinese


def test_a_duplicate_id_number_is_said_in_chinese_naming_the_field() -> None:
    refused = Conflict("person 3 has this ID number already", field="id_number")

    said = in_chinese(refused)

    assert said.startswith("身份证号：") and "只能登记一次" in said


def test_a_refusal_without_a_sentence_of_its_own_still_names_its_field() -> None:
    assert in_chinese(InvalidInput("must not be empty", field="name")).startswith(
        "名称："
    )
    assert in_chinese(Conflict("account 4 serves X already", field="account")) == (
        "账户：与已登记的信息冲突，未作修改。"
    )


def test_a_refusal_about_no_field_is_said_in_chinese_without_one() -> None:
    assert in_chinese(NotFound("no person 5")) == WITHOUT_FIELD["not_found"]


def test_the_consoles_own_chinese_sentence_is_kept() -> None:
    assert in_chinese(Forbidden("你的角色没有这项权限。")) == "你的角色没有这项权限。"
