"""The request's fields, from wherever SmsForwarder put them (query, form, JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from banshui.sms.gateways.base import InboundRequest


class _UnreadableBody(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Fields:
    """Every field of one request; ``body_error`` says why a JSON body was unusable."""

    values: dict[str, str]
    body_error: str | None = None

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def read_fields(request: InboundRequest) -> Fields:
    """Merge query, form and JSON fields; a field in the body wins over the URL."""
    values = dict(request.query)
    values.update(request.form)
    if not _is_json(request):
        return Fields(values)

    try:
        values.update(_json_fields(request.body))
    except _UnreadableBody as error:
        return Fields(values, body_error=str(error))
    return Fields(values)


def _is_json(request: InboundRequest) -> bool:
    # The app sends JSON when the user's template starts with "{", whatever the
    # headers say, and some users only set the content type.
    if request.body.lstrip().startswith((b"{", b"\xef\xbb\xbf{")):
        return True

    content_type = _header(request, "content-type") or ""
    return "json" in content_type.lower() and bool(request.body.strip())


def _header(request: InboundRequest, name: str) -> str | None:
    for key, value in request.headers.items():
        if key.lower() == name:
            return value
    return None


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        raise _UnreadableBody("the JSON body cannot be read") from None

    if not isinstance(document, dict):
        raise _UnreadableBody("the JSON body is not an object")

    fields = {
        key: text
        for key, value in document.items()
        if (text := _text(value)) is not None
    }
    # JSON escapes can spell lone surrogates, which no database or hash accepts.
    if not all(_is_unicode(key) and _is_unicode(text) for key, text in fields.items()):
        raise _UnreadableBody("the JSON body holds text that is not valid Unicode")
    return fields


def _text(value: object) -> str | None:
    # Templates often leave [timestamp] unquoted, so whole numbers count as text.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
