"""Mainland mobile numbers as the bureau reads them: 11 digits starting with 1."""

import re

_MOBILE = re.compile(r"1\d{10}")
_WITH_COUNTRY = re.compile(r"(?:\+?86)?[ -]?(1\d{10})")


def is_mobile(text: str) -> bool:
    return _MOBILE.fullmatch(text) is not None


def normalise_mobile(text: str) -> str:
    """The 11-digit form of a number typed with or without +86; ValueError if none."""
    match = _WITH_COUNTRY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an 11-digit mainland mobile number")

    return match.group(1)


def mask(phone: str) -> str:
    """The number as the login page shows it, e.g. 131****8888."""
    return f"{phone[:3]}****{phone[-4:]}"
