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
# What a viewer might read a code from, extracted or not: digits, whole or in
# groups joined by one space or dash (`4182-07`, `418 207`), four or more in all.
_CODE_LIKE = re.compile(r"[0-9０-９]+(?:[\s\-‐‑‒–—―−－][0-9０-９]+)*")
CODE_LIKE_DIGITS = 4


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
    return _cut(text, spans, masked)


def hide_codes(text: str, code: str | None) -> list[Piece]:
    """The text for a viewer: its code and every run of digits that could be one
    masked, since a code the extractor did not recognise is still a code."""
    spans = [
        match.span()
        for match in _CODE_LIKE.finditer(text)
        if sum(char.isdigit() for char in match.group()) >= CODE_LIKE_DIGITS
    ]
    if code is not None:
        spans += [match.span() for match in _written(code).finditer(text)]
    return _cut(text, _merged(spans), masked=True)


def _cut(text: str, spans: list[tuple[int, int]], masked: bool) -> list[Piece]:
    """The text in pieces, each span (in order, apart) a piece of code."""
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


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans in order, those that overlap or touch made one."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


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
