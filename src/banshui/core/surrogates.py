"""Lone surrogates: text a JSON escape can spell but UTF-8 cannot hold.

``"\\ud800"`` is valid JSON; Python's ``json`` decodes it to a str that no
encoder, database or log line takes, so it fails far from where it came in.
pydantic's own JSON parser refuses such a body whole, without saying where.
Either way this finds the field that holds it, so the refusal names it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

NOT_UNICODE = "is not valid Unicode text (it holds a lone surrogate)"

# Python joins a pair it decodes: any surrogate left in a str stands alone.
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


@dataclass(frozen=True, slots=True)
class LoneSurrogate:
    """Where a body's first lone surrogate is: a dotted field, or None at the top."""

    field: str | None

    @property
    def message(self) -> str:
        if self.field is None:
            return f"a field name {NOT_UNICODE}"
        return f"{self.field}: {NOT_UNICODE}"


def lone_surrogate_in(body: bytes) -> LoneSurrogate | None:
    """The first lone surrogate of a JSON body; None if it holds none or is no JSON."""
    try:
        path = _path_to(json.loads(body))
    except (ValueError, RecursionError):
        return None
    if path is None:
        return None
    return LoneSurrogate(".".join(path) or None)


def _path_to(value: object) -> list[str] | None:
    """The keys down to the first lone surrogate; an item is named by its list."""
    if isinstance(value, str):
        return [] if has_lone_surrogate(value) else None
    if isinstance(value, list):
        found = (_path_to(item) for item in value)
        return next((path for path in found if path is not None), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if has_lone_surrogate(key):
                return []  # a name cannot be named: its object is
            inner = _path_to(item)
            if inner is not None:
                return [key, *inner]
    return None
