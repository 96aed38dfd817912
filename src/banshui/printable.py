"""Text from outside made safe to print on a terminal or write in a log line.

An SMS, a sender or a request path can carry control characters: an ANSI
escape repaints the operator's terminal, a carriage return overwrites the line,
a newline forges a log entry, a bidirectional override reorders what is read.
Each one is shown as its escape (``\\x1b``, ``\\u202e``) instead.
"""

from __future__ import annotations

import re

# C0 and DEL, C1, and the bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` escaped."""
    return _CONTROL.sub(lambda found: _escaped(found.group(), keep), text)


def _escaped(char: str, keep: str) -> str:
    if char in keep:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
