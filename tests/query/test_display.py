"""Finding a code where an SMS writes it, to mark it or to hide it."""

from __future__ import annotations

from banshui.query.display import MASK, Piece, split_on_code


def codes_in(pieces: list[Piece]) -> list[str]:
    return [piece.text for piece in pieces if piece.is_code]


def test_a_full_width_code_is_marked_as_written() -> None:
    pieces = split_on_code(
        "您的登录验证码：４１８２０７，请确认", "418207", masked=False
    )

    assert codes_in(pieces) == ["４１８２０７"]
    assert (
        "".join(piece.text for piece in pieces)
        == "您的登录验证码：４１８２０７，请确认"
    )


def test_a_code_written_in_groups_is_masked_whole() -> None:
    pieces = split_on_code("验证码：418 207，税号91440300MA5FA0010M", "418207", True)

    assert codes_in(pieces) == [MASK]
    assert "418" not in "".join(piece.text for piece in pieces)
    assert "91440300MA5FA0010M" in "".join(piece.text for piece in pieces)


def test_every_place_the_code_appears_is_masked() -> None:
    pieces = split_on_code("验证码：418207，再说一次 418207", "418207", masked=True)

    assert codes_in(pieces) == [MASK, MASK]


def test_a_stale_code_not_found_as_written_hides_every_digit_run() -> None:
    pieces = split_on_code("验证码 3051-18，请于 5 分钟内输入", "418207", masked=True)

    assert codes_in(pieces) == [MASK]
    assert (
        "".join(piece.text for piece in pieces) == f"验证码 {MASK}，请于 5 分钟内输入"
    )


def test_a_code_inside_a_longer_number_is_not_the_code() -> None:
    pieces = split_on_code("尾号14182079 的验证码 418207", "418207", masked=False)

    assert codes_in(pieces) == ["418207"]
    assert pieces[0].text == "尾号14182079 的验证码 "
