"""Whether an SMS comes from one of the bureau's sender numbers.

Anyone can text a sub-number, and a text can copy the bureau's wording and its
【…税务】 signature: the wording says what an SMS claims to be, only the sender
the carrier reports says who sent it. The bureau sends from 12366 (the tax
service hotline) and from SP numbers that end in it (``106…12366``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

# Gateways report a sender the way the phone shows it: with a country prefix,
# spaces or dashes.
_COUNTRY = re.compile(r"^(?:\+|00)86")
_SEPARATORS = re.compile(r"[\s\-()]")


def normal_sender(sender: str) -> str:
    """The sender without country prefix and separators: ``+86 12366`` → ``12366``."""
    compact = _SEPARATORS.sub("", sender)
    return _COUNTRY.sub("", compact)


def is_bureau_sender(sender: str, patterns: Iterable[str]) -> bool:
    """Whether the sender matches one of the patterns (``*`` stands for any digits)."""
    normal = normal_sender(sender)
    if not normal:
        return False
    return any(fnmatch.fnmatchcase(normal, pattern) for pattern in patterns)
