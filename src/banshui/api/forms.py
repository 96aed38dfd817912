"""Form bodies (``application/x-www-form-urlencoded``), decoded in few steps.

A gateway's form carries the SMS text percent-encoded, three escapes to a
Chinese character, and the standard library's ``unquote`` decodes them one at
a time in Python: for an SMS webhook that cost more than its signature check.
Quoted-printable is the same encoding with ``=`` for ``%``, and ``binascii``
decodes it in C. The fields are exactly those of
``dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))``.
"""

from __future__ import annotations

import binascii
import re
from urllib.parse import unquote

# A "%" that starts no escape: left as it is, which quoted-printable would not do.
_NOT_AN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def form_fields(body: bytes) -> dict[str, str]:
    """The fields of a form body; of a name given twice, the last value."""
    fields: dict[str, str] = {}
    for pair in body.decode("utf-8", errors="replace").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        fields[_unquote(name)] = _unquote(value)
    return fields


def _unquote(text: str) -> str:
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if _NOT_AN_ESCAPE.search(text):
        return unquote(text)
    # Every "=" escaped first, so that only the escapes decode.
    quoted = text.encode().replace(b"=", b"=3D").replace(b"%", b"=")
    return binascii.a2b_qp(quoted).decode("utf-8", errors="replace")
