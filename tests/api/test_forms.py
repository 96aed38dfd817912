"""Form bodies decode to exactly the fields the standard library reads from them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from banshui.api.forms import form_fields

# Pieces that meet in real and hostile forms: escapes whole, cut short or not
# hex, escaped separators, raw UTF-8, line breaks, "=" inside a value.
PIECES = st.sampled_from(
    [
        *"%&=+_ aZ09\r\n",
        *("%E4%B8%AD", "%E4", "%B8%AD", "%2", "%zz", "%25", "%2B", "%3D", "%3d"),
        *("%26", "%0A", "%00", "%FF", "%C3%A9", "=3D", "中", "é", "\x00"),
    ]
)


def standard(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


@settings(max_examples=500)
@given(st.lists(PIECES, max_size=40).map("".join), st.binary(max_size=24))
def test_any_body_gives_the_fields_the_standard_library_gives(
    text: str, raw: bytes
) -> None:
    for body in (text.encode(), raw, text.encode() + raw + text.encode()):
        assert form_fields(body) == standard(body)


def test_an_sms_in_chinese_comes_out_whole_from_its_form() -> None:
    sms = "【中国税务】您的登录验证码：418207，请确认是本人操作。\n12366"
    body = urlencode({"from": "12366", "content": sms, "sign": "a+b/c=="}).encode()

    fields = form_fields(body)

    assert fields == {"from": "12366", "content": sms, "sign": "a+b/c=="}


def test_a_name_given_twice_keeps_its_last_value_and_a_bare_name_is_empty() -> None:
    assert form_fields(b"a=1&a=2&flag&&b=") == {"a": "2", "flag": "", "b": ""}
