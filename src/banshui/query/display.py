"""How an SMS is shown on the query page: its code marked, or masked once stale."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from banshui.core.clock import SHANGHAI
from banshui.sms.inbox import code_expires_at
from banshui.sms.models import InboundSms

MASK = "******"

_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
# What may sit inside a code as written: `418 207`, `418-207`, full-width dashes.
_INSIDE = r"[\s\-‐‑‒–—―−－]?"
# When a stale code cannot be found as written, every long digit run is hidden.
_DIGIT_RUN = re.compile(r"[0-9０-９][0-9０-９\s\-－]{2,}[0-9０-９]")


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of an SMS text; ``is_code`` marks the code (or its mask)."""

    text: str
    is_code: bool


@dataclass(frozen=True, slots=True)
class ShownSms:
    sender: str
    received: str  # Asia/Shanghai, to the second
    code: str | None  # the code, MASK once stale, None when the SMS has none
    stale: bool
    valid_until: str | None  # Asia/Shanghai, while the code is good
    pieces: list[Piece]


def show(sms: InboundSms, now: datetime) -> ShownSms:
    """The SMS for a person's eyes at ``now``."""
    if sms.code is None:
        pieces = [Piece(sms.text, is_code=False)]
        return ShownSms(sms.sender, _local(sms.received_at), None, False, None, pieces)

    expires = code_expires_at(sms)
    stale = expires <= now
    return ShownSms(
        sender=sms.sender,
        received=_local(sms.received_at),
        code=MASK if stale else sms.code,
        stale=stale,
        valid_until=None if stale else _local(expires, "%H:%M:%S"),
        pieces=split_on_code(sms.text, sms.code, masked=stale),
    )


def split_on_code(text: str, code: str, masked: bool) -> list[Piece]:
    """The text cut around each place the code is written in it."""
    spans = [match.span() for match in _written(code).finditer(text)]
    if masked and not spans:
        spans = [match.span() for match in _DIGIT_RUN.finditer(text)]

    pieces: list[Piece] = []
    end = 0
    for start, stop in spans:
        if start > end:
            pieces.append(Piece(text[end:start], is_code=False))
        pieces.append(Piece(MASK if masked else text[start:stop], is_code=True))
        end = stop
    if end < len(text):
        pieces.append(Piece(text[end:], is_code=False))
    return pieces


def _written(code: str) -> re.Pattern[str]:
    """The code as an SMS may write it: full-width forms, spaced or dashed groups."""
    characters = _INSIDE.join(_either_width(char) for char in code)
    return re.compile(f"(?<![{_ALNUM}]){characters}(?![{_ALNUM}])")


def _either_width(char: str) -> str:
    if char.isascii() and char.isalnum():
        return f"[{char}{chr(ord(char) + 0xFEE0)}]"
    return re.escape(char)


def _local(at: datetime, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    return at.astimezone(SHANGHAI).strftime(pattern)
