"""Mainland mobile numbers: typed as 11 digits, ``+86`` forms accepted."""

from __future__ import annotations

import phonenumbers

from banshui.core.errors import InvalidInput


def normalize_mobile(value: str, field: str = "number") -> str:
    """The 11-digit mainland mobile number, or an error that names the field."""
    text = value.strip()
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{value!r} is not a phone number", field=field) from None

    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            f"{value!r} is not a valid mainland mobile number", field=field
        )
    if phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise InvalidInput(f"{value!r} is not a mobile number", field=field)
    return str(parsed.national_number)


def mask(number: str) -> str:
    """``131****8888``: enough to recognise a number, not to dial it."""
    if len(number) < 7:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"


_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
