import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banshui.sms.extraction import Extraction, SmsKind, extract

SAMPLES_PATH = Path(__file__).resolve().parents[1] / "data" / "sms-samples.jsonl"

PLAUSIBLE_CODE = re.compile(r"[A-Za-z0-9]{4,8}")


def _load_samples() -> list[tuple[str, str, str | None, str]]:
    """(id, text, code, kind) of every sample."""
    lines = SAMPLES_PATH.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [(row["id"], row["text"], row["code"], row["kind"]) for row in rows]


SAMPLES = _load_samples()


@pytest.mark.parametrize(
    ("text", "code", "kind"),
    [sample[1:] for sample in SAMPLES],
    ids=[sample[0] for sample in SAMPLES],
)
def test_every_sample_gives_exactly_its_code_and_kind(
    text: str, code: str | None, kind: str
) -> None:
    extraction = extract(text)

    assert (extraction.code, extraction.kind) == (code, SmsKind(kind))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【北京税务】您的登录验证码：518273，请勿泄露。", "518273"),
        ("【国家税务总局上海市税务局】您的验证码为：620394，5分钟内有效。", "620394"),
        ("【国家税务总局宁波市税务局】验证码 447120（有效期为30分钟）", "447120"),
        ("【江苏税务】尊敬的示例集团，您的办税验证码为 339157。", "339157"),
        ("【电子税务局】动态码：805512，您正在登录，请勿告知他人。", "805512"),
        ("【广東稅務】您的驗證碼為：602814，請於5分鐘內輸入。", "602814"),
        ("【某财税助手】您正在绑定电子税务局账号，验证码：771204", "771204"),
    ],
)
def test_a_bureau_text_from_any_signature_is_a_bureau_login(
    text: str, code: str
) -> None:
    extraction = extract(text)

    assert (extraction.code, extraction.kind) == (code, SmsKind.BUREAU_LOGIN)


@pytest.mark.parametrize(
    "text",
    [
        "【湖北税务】尊敬的91420100MA4K0000XX，您好！您的办税验证码为614209。",
        "【深圳税务】统一社会信用代码91440300MA5G8K2L1X的企业正在登录，验证码：614209",
        "【厦门税务】纳税人识别号350203123456789（15位），验证码是614209",
        "【厦门税务】税号35020312345678901，您的验证码是：614209",
        "【厦门税务】税号35020312345678901234，您的验证码是：614209",
        "【厦门税务】614209是您的验证码，纳税人识别号91350200MA2XYZ1234",
    ],
    ids=["uscc-greeting", "uscc-quoted", "15-digit", "17-digit", "20-digit", "after"],
)
def test_a_tax_id_quoted_in_the_text_is_never_taken_for_the_code(text: str) -> None:
    assert extract(text).code == "614209"


@pytest.mark.parametrize(
    "text",
    [
        "【某税务】您的验证码为：91420100MA4K0000XX",
        "验证码：350203123456789",
        "验证码：35020312345678901",
        "验证码：35020312345678901234",
    ],
)
def test_a_tax_id_bound_to_a_keyword_is_still_no_code(text: str) -> None:
    assert extract(text).code is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【某银行】您尾号6612的账户验证码为：338102，请勿泄露。", "338102"),
        ("Your card ending 7733: your verification code is 448120.", "448120"),
        ("【某出行】订单尾号2231的司机已接单，验证码1845。", "1845"),
    ],
)
def test_a_card_suffix_is_never_taken_for_the_code(text: str, code: str) -> None:
    assert extract(text).code == code


@pytest.mark.parametrize(
    "text",
    [
        "验证码已发送至尾号6612的手机，请查收。",
        "尾号6612(验证码已发送)",
        "Order #88231 is your code",
        "Your order code is 88231.",
    ],
)
def test_a_card_or_order_number_next_to_a_keyword_is_no_code(text: str) -> None:
    assert extract(text).code is None


@pytest.mark.parametrize(
    "text",
    [
        "您的验证码：13800138000",
        "验证码：400-800-0000",
        "验证码：138 0013 8000",
        "请输入短信验证码完成登录。客服热线 400-800-0000，或致电10086。",
    ],
)
def test_a_phone_or_hotline_number_is_never_taken_for_the_code(text: str) -> None:
    assert extract(text).code is None


@pytest.mark.parametrize(
    "text",
    [
        "验证码 2026年12月15日前有效",
        "验证码: 2026-12-04 09:30",
        "验证码 12/05",
        "您的验证码为123456.00元",
        "验证码 0930:15",
    ],
)
def test_amounts_dates_and_times_are_never_taken_for_the_code(text: str) -> None:
    assert extract(text).code is None


@pytest.mark.parametrize(
    "text",
    [
        "【某快递】取件码 4-2-1187，请于今日18:00前取件。",
        "【某驿站】您的取件验证码 5521，请凭码取件。",
        "Use promo code SAVE2024 for 20% off.",
        "Your pickup code is 7781.",
    ],
)
def test_pickup_and_promotion_codes_are_not_login_codes(text: str) -> None:
    assert extract(text) == Extraction(code=None, kind=SmsKind.NOTICE)


@pytest.mark.parametrize(
    "text",
    [
        "验证码发送过于频繁，请稍后再试。",
        "您的验证码：******，请勿泄露",
        "Your verification code is ready.",
        "验证码",
        "",
    ],
)
def test_a_keyword_without_a_code_gives_no_code_rather_than_the_text(text: str) -> None:
    assert extract(text).code is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Your verification code is 552019.", "552019"),
        ("验证码：552019。", "552019"),
        ("Your OTP is 12345678.", "12345678"),
    ],
)
def test_a_trailing_dot_is_dropped(text: str, code: str) -> None:
    assert extract(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【某银行】验证码为：48271935，用于登录。", "48271935"),
        ("Your one-time password is 12345678", "12345678"),
        ("48271935是您的验证码", "48271935"),
    ],
)
def test_an_eight_digit_code_is_never_cut_short(text: str, code: str) -> None:
    assert extract(text).code == code


def test_nine_digits_are_not_cut_to_an_eight_digit_code() -> None:
    assert extract("验证码：123456789").code is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("验证码：123 456，请勿泄露", "123456"),
        ("验证码：1234-5678", "12345678"),
        ("Your code is 12 34 56.", "123456"),
        ("验证码 1234 5678 10分钟内有效", "12345678"),
    ],
)
def test_a_split_code_is_joined_into_one(text: str, code: str) -> None:
    assert extract(text).code == code


def test_a_long_run_of_equal_digit_groups_is_one_number_not_a_code() -> None:
    assert extract("验证码：1234 5678 9012 3456").code is None


def test_the_gateway_template_lines_around_the_sms_are_not_taken_for_the_code() -> None:
    text = (
        "10690000\n【中国税务】您的登录验证码：730162，请确认。\n"
        "SIM1_中国移动_13800138000\n2026-12-03 17:20:11\n张三的手机"
    )

    assert extract(text) == Extraction(code="730162", kind=SmsKind.BUREAU_LOGIN)


def test_a_part_of_a_split_sms_without_the_code_gives_no_code() -> None:
    part = "请确认您正通过浏览器登录自然人电子税务局官方网站，切勿通过其他应用登录。"

    assert extract(part) == Extraction(code=None, kind=SmsKind.NOTICE)


def test_a_keyword_used_as_the_signature_binds_the_code_after_it() -> None:
    assert extract("【验证码】482913，请勿泄露。").code == "482913"


def test_a_number_after_the_code_is_not_joined_to_it() -> None:
    assert extract("验证码1845 10分钟内有效").code == "1845"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("839201是您的登录验证码，5分钟内有效。", "839201"),
        ("Use 774512 as your login code.", "774512"),
        ("T-882019 is your Telegram login code", "882019"),
        ("【某平台】472905（动态验证码）", "472905"),
    ],
)
def test_a_code_before_its_keyword_is_found(text: str, code: str) -> None:
    assert extract(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【某平台】验证码(5分钟内有效)：662901", "662901"),
        ("【某应用】动态口令：551904", "551904"),
        ("Your OTP for login to 示例集团 is 230571", "230571"),
        ("Your code: 9041", "9041"),
    ],
)
def test_a_code_after_other_keyword_wordings_is_found(text: str, code: str) -> None:
    assert extract(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【某商城】您的校验码为 A7K2Q9，请在5分钟内完成验证。", "A7K2Q9"),
        ("验证码：Ｂ７Ｘ９Ｑ２", "B7X9Q2"),
        ("Your security code is x4k9pz", "x4k9pz"),
    ],
)
def test_an_alphanumeric_code_is_kept_as_written(text: str, code: str) -> None:
    assert extract(text).code == code


def test_letters_alone_are_never_a_code() -> None:
    assert extract("您的校验码为 ABCDEF").code is None


@pytest.mark.parametrize(
    "text",
    [
        "验证码:1O2345",
        "【中国税务】您的登录验证码：1O2345，请确认是本人操作。",
        "【深圳税务】您的验证码是：３０５８１Ｏ（有效期为5分钟）",
        "验证码：4l8207",
        "Your verification code is I04417.",
        "1O2345是您的验证码",
    ],
)
def test_a_code_with_a_letter_that_may_be_a_digit_gives_no_code(text: str) -> None:
    # 1O2345 may be 102345 mistyped or a code with a letter O: never guess.
    assert extract(text).code is None


def test_a_doubtful_code_does_not_hide_a_clear_one_later_in_the_text() -> None:
    assert extract("验证码:1O2345（作废），新验证码：102345").code == "102345"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【某政务】验证码：１２３８４０，请勿泄露。", "123840"),
        ("Your one–time password is ４４８１２０", "448120"),
        ("验证码：１２３－４５６", "123456"),
    ],
)
def test_full_width_digits_and_odd_dashes_are_read_as_ascii(
    text: str, code: str
) -> None:
    assert extract(text).code == code


@pytest.mark.parametrize(
    "text",
    [
        "【厦门税务】您有一笔税款将于2026年12月15日到期，请及时办税。",
        "【国家税务总局深圳市税务局】示例集团91440300MA5G8K2L1X本月申报期限为12月15日。",
        "【宁波市税务局】您的验证码已失效，请重新获取。",
    ],
)
def test_a_bureau_text_without_a_code_is_a_notice(text: str) -> None:
    assert extract(text) == Extraction(code=None, kind=SmsKind.NOTICE)


def test_a_tax_agent_firm_is_not_the_bureau() -> None:
    extraction = extract("【某税务师事务所】您的验证码为 551203，请勿泄露。")

    assert extraction.kind is SmsKind.VERIFICATION


def test_a_code_from_anyone_else_is_a_verification() -> None:
    assert extract("【某网盘】您的动态密码为：90 31 77").kind is SmsKind.VERIFICATION


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("【深圳税务】您的验证码是：305817（有效期为5分钟）", 5),
        ("【宁波市税务局】您的验证码为：882341，30分钟内有效", 30),
        ("Your code is 381294. It expires in 10 minutes.", 10),
        ("验证码：620394，有效期1小时", 60),
        ("【中国税务】您的登录验证码：730162，请确认", None),
    ],
)
def test_the_stated_validity_is_read_in_minutes(text: str, minutes: int | None) -> None:
    assert extract(text).validity_minutes == minutes


def test_a_notice_states_no_validity() -> None:
    assert extract("有效期为5分钟的活动即将结束").validity_minutes is None


@pytest.mark.parametrize(
    "text",
    ["\ud800验证码\udfff123456", "验证码" + "1 " * 5000, "验证码:" * 3000, "\x00" * 10],
)
def test_odd_input_is_read_without_raising(text: str) -> None:
    _assert_plausible(extract(text))


def test_a_very_long_text_never_yields_a_code_cut_short() -> None:
    for padding in range(4200):
        text = "，" * padding + "验证码:12345678"

        assert extract(text).code in {"12345678", None}


# Whole keywords and digit groups, so that arbitrary texts reach the binding rules.
SMS_PIECES = st.sampled_from(
    [
        *"0123456789 -.:/：，【】()（）#ABCGkxyz是为的您元年",
        *("验证码", "动态密码", "税务", "尾号", "code is ", " is your code", "OTP"),
        *("１２", "Ｇ－", "–", "12", "1234", "5678", "\u0301", "İ"),
    ]
)
SMS_LIKE = st.lists(SMS_PIECES, max_size=150).map("".join)
HUGE = st.builds(
    lambda part, times: part * times, st.text(max_size=40), st.integers(0, 30_000)
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), SMS_LIKE, HUGE))
def test_extract_never_raises_and_gives_no_code_or_a_plausible_one(text: str) -> None:
    _assert_plausible(extract(text))


def _assert_plausible(extraction: Extraction) -> None:
    """A code is absent or 4–8 ASCII letters and digits with at least one digit."""
    assert isinstance(extraction.kind, SmsKind)

    if extraction.code is not None:
        assert PLAUSIBLE_CODE.fullmatch(extraction.code)
        assert any(char.isdigit() for char in extraction.code)
        assert extraction.kind is not SmsKind.NOTICE
