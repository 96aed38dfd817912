"""Taking SmsForwarder's default ``content`` template apart.

The default template is, one per line: the sender, the SMS (itself possibly several
lines), the SIM slot (``SIM1_中国移动_13188888888``, or just ``SIM1``), in recent
app versions a ``SubId：N`` line, the receive time (``YYYY-MM-DD HH:MM:SS``, the
phone's local time) and the device mark. The app trims the result, so an empty
device mark leaves no line at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RECEIVE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_SLOT = re.compile(r"SIM([0-9])(?:[_:：].*)?")
_SUB_ID = re.compile(r"SubId[:：]\s*-?[0-9]+")


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """The SMS text inside a ``content`` value, and what the template said about it."""

    text: str
    receive_time: str | None = None
    sim_slot: str | None = None


def slot_of(value: str) -> str | None:
    """The slot, "1" or "2", that a slot line or ``card_slot`` value names."""
    match = _SLOT.fullmatch(value.strip())
    if match is None or match.group(1) not in ("1", "2"):
        return None
    return match.group(1)


def unwrap(content: str, sender: str) -> Unwrapped:
    """The SMS inside the template, or ``content`` whole when it is not the template.

    Lines are stripped from the end: a device mark (only when a receive time comes
    before it), the receive time, a ``SubId`` line, the SIM slot; then the first
    line when it is the sender. It counts as the template when the slot line was
    there, or both the sender and the receive time were: a lone date or sender
    line is too likely in a real SMS to be taken for the template.
    """
    lines = content.strip().split("\n")
    receive_time = _pop_receive_time(lines)
    _pop_if(lines, _SUB_ID)
    slot_line = lines.pop().strip() if _last_matches(lines, _SLOT) else None
    sender_line = bool(sender) and len(lines) > 1 and lines[0].strip() == sender
    if sender_line:
        lines.pop(0)

    if slot_line is None and not (sender_line and receive_time is not None):
        return Unwrapped(text=content.strip())

    # An empty SMS inside a real template stays empty: the template is not the SMS.
    text = "\n".join(lines).strip()
    sim_slot = slot_of(slot_line) if slot_line is not None else None
    return Unwrapped(text, receive_time, sim_slot)


def _pop_receive_time(lines: list[str]) -> str | None:
    # The device mark is free text, so it is only known by what comes before it.
    if len(lines) > 2 and _RECEIVE_TIME.fullmatch(lines[-2].strip()):
        lines.pop()
    if len(lines) > 1 and _RECEIVE_TIME.fullmatch(lines[-1].strip()):
        return lines.pop().strip()
    return None


def _pop_if(lines: list[str], pattern: re.Pattern[str]) -> None:
    if _last_matches(lines, pattern):
        lines.pop()


def _last_matches(lines: list[str], pattern: re.Pattern[str]) -> bool:
    return len(lines) > 1 and pattern.fullmatch(lines[-1].strip()) is not None
