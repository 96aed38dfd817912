"""Reading the command text: separators, spaces, @-mentions and field counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banshui.chat.parsing import Command, Unknown, Verb, WrongCount, parse

FIELDS = ("918888888888888888", "88888888", "SECRET", "18888888888", "13188888888")
GUIDE_EXAMPLE = (
    "@对话机器人 绑定小号#918888888888888888#88888888#"
    "8888888888888888889RDT7H336974N5DP8G88888888#18888888888#13188888888"
)


def test_the_guides_example_reads_as_a_bind_command_with_five_fields() -> None:
    parsed = parse(GUIDE_EXAMPLE)

    assert isinstance(parsed, Command)
    assert parsed.verb is Verb.BIND
    assert parsed.fields[0] == "918888888888888888"
    assert parsed.fields[4] == "13188888888"


def test_full_width_hashes_and_spaces_around_fields_are_accepted() -> None:
    text = (
        "  绑定小号 ＃ 918888888888888888＃88888888 ＃SECRET\u3000"
        "＃18888888888＃13188888888 "
    )

    assert parse(text) == Command(Verb.BIND, FIELDS)


@pytest.mark.parametrize(
    "mention",
    ["@对话机器人 ", "@对话机器人\u2005", "＠对话机器人 ", "@对话机器人", "@a @b "],
)
def test_an_at_mention_before_the_command_is_stripped(mention: str) -> None:
    assert parse(f"{mention}查询小号#13188888888") == Command(
        Verb.QUERY, ("13188888888",)
    )


def test_full_width_digits_typed_with_a_chinese_ime_become_ascii() -> None:
    assert parse("解绑小号#１３１８８８８８８８８") == Command(
        Verb.UNBIND, ("13188888888",)
    )


@pytest.mark.parametrize(
    ("text", "verb", "got"),
    [
        ("绑定小号#918888888888888888#88888888#SECRET#18888888888", Verb.BIND, 4),
        ("绑定小号#1#2#3#4#5#6", Verb.BIND, 6),
        ("绑定小号", Verb.BIND, 0),
        ("解绑小号#13188888888#13188888889", Verb.UNBIND, 2),
        ("查询小号", Verb.QUERY, 0),
    ],
)
def test_too_few_or_too_many_fields_are_counted(
    text: str, verb: Verb, got: int
) -> None:
    assert parse(text) == WrongCount(verb, got)


def test_a_trailing_hash_is_not_taken_for_an_empty_field() -> None:
    assert parse("查询小号#13188888888#") == Command(Verb.QUERY, ("13188888888",))


def test_an_empty_field_in_the_middle_is_kept_for_the_checks_to_name() -> None:
    parsed = parse("绑定小号#918888888888888888##SECRET#18888888888#13188888888")

    assert isinstance(parsed, Command)
    assert parsed.fields[1] == ""


@pytest.mark.parametrize(
    "text", ["", "   ", "你好", "绑定#1#2", "绑定小号码#1", "bind"]
)
def test_text_that_is_no_command_is_unknown(text: str) -> None:
    assert isinstance(parse(text), Unknown)


@given(st.text())
def test_parsing_never_raises_on_any_text(text: str) -> None:
    assert isinstance(parse(text), Command | WrongCount | Unknown)
