"""Code extraction: the one-time code (验证码) in an SMS, and the SMS's kind."""

import re
import string
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class SmsKind(StrEnum):
    """What an SMS is for, as far as logging in is concerned."""

    BUREAU_LOGIN = "bureau_login"
    VERIFICATION = "verification"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Extraction:
    """What one SMS yields; `validity_minutes` is the lifetime the text states."""

    code: str | None
    kind: SmsKind
    validity_minutes: int | None = None


# Even an SMS reassembled from ten parts is far shorter; the cap bounds the work a
# broken or hostile gateway can cause with one text.
_MAX_CHARS = 2048

_CODE_CHARS = string.ascii_letters + string.digits + " -"

# NFKC folds full-width forms but leaves these dashes alone, and senders use them all.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))

_ZH_KEYWORD = (
    "(?:验证码|校验码|动态码|动态密码|动态口令|登录码|确认码|安全码|认证码|短信码|随机码"
    "|驗證碼|校驗碼|動態碼|動態密碼|登錄碼|認證碼|確認碼)"
)
_EN_KEYWORD = (
    r"(?<![A-Za-z])(?i:verification\s+code|security\s+code|log-?in\s+code"
    r"|one[-\s]?time\s+(?:password|passcode|code|pin)|passcode|otp|code)(?![A-Za-z])"
)

# Keyword, then a short fixed bridge (为, 是, is, a colon, an opening bracket), then
# the code; a bridge any looser would bind the keyword to an unrelated number.
_ZH_BRIDGE_AFTER = r"(?:\s*\([^()]{0,12}\))?\s*】?\s*(?:是|为|為)?\s*[:=]?\s*"
_EN_BRIDGE_AFTER = (
    r"(?:\s+(?i:for|to)\s+(?:\S+\s+){0,4}?(?i:is)(?![A-Za-z]))?"
    r"\s*(?:(?i:is)(?![A-Za-z]))?\s*[:=]?\s*"
)
_OPENER = "(?:[【\\[「『(<\"'“‘]\\s*)?(?=[A-Za-z0-9])"

# A code may come first: `472905（动态验证码）`, `123456是您的验证码`,
# `G-640217 is your Google verification code`.
_TOKEN = (
    r"(?<![A-Za-z0-9])(?<![0-9][ .:/-])(?:[A-Za-z]{1,3}-)?"
    r"(?P<token>[0-9]+(?:[ -][0-9]+){0,3}(?![A-Za-z0-9])|[A-Za-z0-9]+)"
)
_ZH_BRIDGE_BEFORE = r"\s*(?:[(\[【「]\s*|(?:是|为|為)\s*)[\u4e00-\u9fff]{0,8}?"
_EN_BRIDGE_BEFORE = r"\s+(?i:is|as)\s+(?i:your|the)\s+(?:\S+\s+){0,3}?"


class _Wording(NamedTuple):
    """One language's keyword and the two ways a code is bound to it."""

    keyword: re.Pattern[str]
    after: re.Pattern[str]
    before: re.Pattern[str]
    before_hint: re.Pattern[str]


def _wording(
    keyword: str, bridge_after: str, bridge_before: str, before_hint: str
) -> _Wording:
    """Compile one language's patterns around its keyword."""
    return _Wording(
        keyword=re.compile(keyword),
        after=re.compile(f"(?P<keyword>{keyword}){bridge_after}{_OPENER}"),
        before=re.compile(f"{_TOKEN}{bridge_before}(?P<keyword>{keyword})"),
        before_hint=re.compile(before_hint),
    )


# The patterns for a code before its keyword are tried at every position, which is
# slow; their hints, led by a character class, rule most texts out quickly.
_CHINESE = _wording(
    _ZH_KEYWORD, _ZH_BRIDGE_AFTER, _ZH_BRIDGE_BEFORE, r"[A-Za-z0-9]\s*[(\[【「是为為]"
)
_ENGLISH = _wording(
    _EN_KEYWORD, _EN_BRIDGE_AFTER, _EN_BRIDGE_BEFORE, r"[A-Za-z0-9]\s+[AaIi][Ss]\s"
)

# Case-blind patterns scan slowly, so the English ones wait for one of these words.
_ENGLISH_HINTS = ("code", "otp", "pass", "time")

# A letter prefix such as Google's `G-` is not typed into the form.
_RUN = re.compile(
    r"(?:[A-Za-z]{1,3}-(?=[0-9]))?"
    r"(?P<run>[0-9]+(?:[ -][0-9]+)*(?![A-Za-z0-9])|[A-Za-z0-9]+)"
)

# Pickup, promotion and order codes are keyed like login codes but are not ones.
_NOT_A_LOGIN_CODE = re.compile(
    "(?:取件|取货|提货|取餐|邀请|优惠|兑换|(?i:promo(?:tion)?|coupon|discount"
    r"|voucher|gift|referral|invite|invitation|pick-?up|tracking|order|error|status"
    r"|zip|postal|reference|booking))[\s-]*\Z"
)
_SUFFIX_MARKER = re.compile(
    "(?:尾号|末四位|后四位|单号|卡号|账号|帐号|手机号?|电话|#"
    r"|(?i:ending(?:\s+(?:in|with))?|no\.?|number|tel|phone|order))\s*:?\s*\Z"
)
# Letters that stand in for digits when a code is typed or read by eye: O for 0,
# I and l for 1.
_DIGIT_LOOKALIKES = frozenset("OoIl")
_NOT_A_CODE_AFTER = re.compile(r"[-.:/][0-9]|\s*(?:元|块|年|月|日|号|时|分钟|秒|%)")

_BUREAU = re.compile("税务(?!师)|办税|稅務(?!師)|辦稅")
# The natural-person portal's code for adding a phone (R15) is the bureau's too,
# but it logs nobody in: a login waiting on that number must not take it.
_BUREAU_NOT_LOGIN = re.compile("(?:添加|绑定|解绑|修改|更换|变更)手机号|添加手機號")

_VALIDITY = (
    re.compile(r"有效期(?:为|是)?\s*:?\s*(?P<n>[0-9]{1,4})\s*(?P<unit>分钟|小时)"),
    re.compile(r"(?P<n>[0-9]{1,4})\s*(?P<unit>分钟|小时)\s*(?:内|之内)?有效"),
    re.compile(r"在\s*(?P<n>[0-9]{1,4})\s*(?P<unit>分钟|小时)\s*内"),
    re.compile(
        r"(?i:(?:expires?|valid)\s+(?:in|for|within)\s+(?P<n>[0-9]{1,4})\s*"
        r"(?P<unit>minutes?|mins?|hours?|hrs?))(?![A-Za-z])"
    ),
)


def extract(text: str) -> Extraction:
    """Read the code, the kind and the stated validity of one SMS; never raises."""
    normal = _normalise(text)

    code = _find_code(normal)
    if code is None:
        return Extraction(code=None, kind=SmsKind.NOTICE)

    from_bureau = _BUREAU.search(normal) is not None
    logs_in = _BUREAU_NOT_LOGIN.search(normal) is None
    kind = SmsKind.BUREAU_LOGIN if from_bureau and logs_in else SmsKind.VERIFICATION
    return Extraction(code=code, kind=kind, validity_minutes=_validity(normal))


def _normalise(text: str) -> str:
    """Fold full-width digits, letters and punctuation to ASCII; Chinese stays."""
    bounded = text[:_MAX_CHARS]
    normal = unicodedata.normalize("NFKC", bounded).translate(_DASHES)

    # A code cut in half by the cap would read as a shorter, wrong code.
    if len(text) > _MAX_CHARS:
        return normal.rstrip(_CODE_CHARS)
    return normal


def _find_code(text: str) -> str | None:
    """The code bound to a keyword nearest the start of the text, if any."""
    hits = [
        hit
        for wording in _wordings_in(text)
        for hit in (_code_after(text, wording), _code_before(text, wording))
        if hit is not None
    ]
    return min(hits)[1] if hits else None


def _wordings_in(text: str) -> list[_Wording]:
    """The languages whose keywords the text uses."""
    wordings: list[_Wording] = []
    if _CHINESE.keyword.search(text) is not None:
        wordings.append(_CHINESE)

    lower = text.lower()
    hinted = any(word in lower for word in _ENGLISH_HINTS)
    if hinted and _ENGLISH.keyword.search(text) is not None:
        wordings.append(_ENGLISH)
    return wordings


def _code_after(text: str, wording: _Wording) -> tuple[int, str] | None:
    """Where and what the first code written after its keyword is."""
    for bound in wording.after.finditer(text):
        if _is_qualified(text, bound.start("keyword")):
            continue

        run = _RUN.match(text, bound.end())
        read = None if run is None else _read_run(run.group("run"))
        if run is None or read is None:
            continue

        start = run.start("run")
        code, length = read
        if _NOT_A_CODE_AFTER.match(text, start + length) is None:
            return start, code
    return None


def _code_before(text: str, wording: _Wording) -> tuple[int, str] | None:
    """Where and what the first code written before its keyword is."""
    if wording.before_hint.search(text) is None:
        return None

    for bound in wording.before.finditer(text):
        qualified = _is_qualified(text, bound.start("keyword"))
        if qualified or _follows_suffix_marker(text, bound.start()):
            continue

        # Right against its keyword the whole run must be the code, not a piece of it.
        token = bound.group("token")
        read = _read_run(token)
        if read is not None and read[1] == len(token):
            return bound.start("token"), read[0]
    return None


def _is_qualified(text: str, keyword_start: int) -> bool:
    """Whether the keyword names a pickup, promotion or order code (取件验证码)."""
    return (
        _NOT_A_LOGIN_CODE.search(text, max(0, keyword_start - 16), keyword_start)
        is not None
    )


def _follows_suffix_marker(text: str, start: int) -> bool:
    """Whether a number is a card, order or phone one (尾号6612, ending 7733, #88)."""
    return _SUFFIX_MARKER.search(text, max(0, start - 16), start) is not None


def _read_run(run: str) -> tuple[str, int] | None:
    """The code opening a run like `381-294` or `90 31 77`, and its length there."""
    chunks = run.split(" ")
    first = chunks[0]
    if "-" in first:
        return _joined(first.split("-"), len(first))

    equal = _leading_equal_chunks(chunks)
    if len(equal) > 1:
        return _joined(equal, len(" ".join(equal)))

    return (first, len(first)) if _is_single_code(first) else None


def _leading_equal_chunks(chunks: list[str]) -> list[str]:
    """The digit chunks from the first on that are as long as the first."""
    first = chunks[0]
    if not first.isdigit():
        return [first]

    equal = [first]
    for chunk in chunks[1:]:
        if len(chunk) != len(first) or not chunk.isdigit():
            break
        equal.append(chunk)
    return equal


def _joined(groups: list[str], length: int) -> tuple[str, int] | None:
    """A split code joined, if its groups are equal digit groups making 6–8 digits."""
    # Unequal groups are dates, hotlines and pickup codes (2026-12-04, 400-800-0000,
    # 4-2-1187); more than eight digits is a card or phone number, never a code.
    size = len(groups[0])
    joined = "".join(groups)
    same = all(len(group) == size and group.isdigit() for group in groups)
    if same and 2 <= size <= 4 and 6 <= len(joined) <= 8:
        return joined, length
    return None


def _is_single_code(chunk: str) -> bool:
    """Whether one chunk can be a code: 4–8 letters and digits, at least one a digit."""
    if not (4 <= len(chunk) <= 8 and any(char.isdigit() for char in chunk)):
        return False
    return not _lookalikes_only(chunk)


def _lookalikes_only(chunk: str) -> bool:
    """Whether every letter among the digits could be a mistyped one (1O2345).

    Such a code may be the digits the form wants or the letters as written, and
    a wrong code costs the login a fresh SMS: none is better than a guess.
    """
    letters = {char for char in chunk if not char.isdigit()}
    return bool(letters) and letters <= _DIGIT_LOOKALIKES


def _validity(text: str) -> int | None:
    """The code's lifetime in minutes as the text states it (有效期为5分钟)."""
    for pattern in _VALIDITY:
        stated = pattern.search(text)
        if stated is not None:
            hours = stated.group("unit")[0] in "小hH"
            return int(stated.group("n")) * (60 if hours else 1)
    return None
