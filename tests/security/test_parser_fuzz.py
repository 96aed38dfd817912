"""The parsers at the edge take any text: they accept it well-formed or refuse it.

Generated input for the USCC, the phone number and banshui's signature headers:
each either gives a value in its one canonical form, which it gives again when
read a second time, or refuses with the error the caller turns into a 4xx.
The chat command's reader, code extraction and every gateway's parser are
fuzzed where they live (tests/chat/test_parsing.py, tests/sms/
test_extraction.py, the ``arbitrary_*`` tests of tests/sms/test_*.py).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from banshui.accounts.uscc import region_of, validate_tax_id
from banshui.core.errors import InvalidInput
from banshui.numbers.phones import mask, normalize_mobile
from banshui.signing import SignatureInvalid, read_signed
from security.conftest import full_check

EXAMPLES = 3000 if full_check() else 150
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
)


def uscc_like() -> st.SearchStrategy[str]:
    """Seventeen characters a USCC may hold, with its check character or not."""
    body = st.text(alphabet=USCC_CHARS, min_size=17, max_size=17)
    return body.flatmap(
        lambda stem: st.sampled_from(
            [stem + stdnum_uscc.calc_check_digit(stem), stem + "0", stem + "Y"]
        )
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(texts, uscc_like(), uscc_like().map(str.lower)))
def test_a_tax_id_is_a_known_region_s_uscc_or_refused_on_its_field(text: str) -> None:
    try:
        compact = validate_tax_id(text)
    except InvalidInput as error:
        assert error.field == "tax_id"
        assert "统一社会信用代码" in error.message or "province" in error.message
        return

    assert len(compact) == 18 and set(compact) <= set(USCC_CHARS)
    assert region_of(compact) is not None
    assert validate_tax_id(compact) == compact


@settings(max_examples=EXAMPLES, deadline=None)
@given(uscc_like())
def test_a_uscc_with_one_character_changed_is_never_taken_for_another(
    text: str,
) -> None:
    try:
        compact = validate_tax_id(text)
    except InvalidInput:
        return
    changed = USCC_CHARS[(USCC_CHARS.index(compact[-1]) + 1) % len(USCC_CHARS)]

    with pytest.raises(InvalidInput):
        validate_tax_id(compact[:-1] + changed)


mobiles = st.one_of(
    texts,
    st.from_regex(r"\A(\+86 ?|0086|86)?1[3-9][0-9]{9}\Z"),
    st.from_regex(r"\A\+?[0-9 ()-]{5,20}\Z"),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(mobiles)
def test_a_phone_number_is_eleven_mainland_digits_or_refused_on_its_field(
    text: str,
) -> None:
    try:
        number = normalize_mobile(text, field="number")
    except InvalidInput as error:
        assert error.field == "number"
        return

    assert len(number) == 11 and number.isascii() and number.isdigit()
    assert number.startswith("1")
    assert normalize_mobile(number) == number == normalize_mobile(f"+86{number}")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(alphabet=string.digits, min_size=0, max_size=20))
def test_a_masked_number_shows_at_most_seven_of_its_digits(number: str) -> None:
    shown = mask(number)

    assert len(shown) == len(number) if len(number) < 7 else len(shown) == 11
    assert sum(c.isdigit() for c in shown) <= 7


headers = st.dictionaries(
    st.sampled_from(
        ["x-banshui-key", "x-banshui-timestamp", "x-banshui-nonce", "x-other"]
    ),
    st.one_of(texts, st.from_regex(r"\A[0-9]{1,14}\Z"), st.just("")),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(headers)
def test_signature_headers_are_read_or_refused_as_a_signature(
    values: dict[str, str],
) -> None:
    try:
        claimed = read_signed(values)
    except SignatureInvalid:
        return

    assert claimed.key and 16 <= len(claimed.nonce) <= 64
    assert 0 <= claimed.timestamp < 10**12
