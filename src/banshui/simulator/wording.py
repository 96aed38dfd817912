"""The login SMS each region's bureau sends: its signature and its sentence."""

from typing import Final

SENDER: Final = "12366"

_NATIONAL: Final = (
    "【中国税务】您的登录验证码：{code}，请确认您正通过浏览器登录电子税务局官方网站，"
    "切勿通过其他应用或小程序登录。"
)

# Some regions quote the tax id, which a careless reader takes for the code.
_BY_REGION: Final[dict[str, str]] = {
    "4403": "【深圳税务】您的验证码是：{code}（有效期为{minutes}分钟），请勿泄露。",
    "3502": "【厦门税务】您的验证码是：{code}（有效期为{minutes}分钟）",
    "42": (
        "【湖北税务】尊敬的{tax_id}，您好！您的办税验证码为{code}，"
        "该验证码在{minutes}分钟内有效。"
    ),
    "3302": (
        "【宁波市税务局】您的验证码为：{code}，{minutes}分钟内有效，请尽快验证。"
        "如非本人操作，请忽略本短信"
    ),
}


def login_code_text(region: str, code: str, tax_id: str, valid_seconds: int) -> str:
    """The SMS carrying a login code, worded as that region's bureau words it."""
    template = _BY_REGION.get(region, _NATIONAL)
    minutes = max(1, valid_seconds // 60)
    return template.format(code=code, tax_id=tax_id, minutes=minutes)


_PHONE_BINDING: Final = (
    "【国家税务总局】您正在自然人电子税务局添加手机号码，验证码：{code}，"
    "{minutes}分钟内有效，请勿泄露。如非本人操作，请忽略本短信。"
)


def phone_binding_text(code: str, valid_seconds: int) -> str:
    """The SMS the natural-person portal sends to a phone being added (R15)."""
    return _PHONE_BINDING.format(code=code, minutes=max(1, valid_seconds // 60))
