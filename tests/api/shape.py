"""The one error shape of DESIGN §4, checked the same way by every API test."""

from __future__ import annotations

import re

import httpx

_CODE = re.compile(r"[a-z]+(_[a-z]+)*")
# A sentence end followed by more text means a second sentence.
_NEXT_SENTENCE = re.compile(r"[.!?。！？]\s*\S")


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, str]:
    """``{"error": {"code", "message", "field"?}}``, the field only when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body

    error: dict[str, str] = body["error"]
    assert set(error) <= {"code", "message", "field"}, error
    assert error["code"] == code, error
    assert _CODE.fullmatch(error["code"])

    message = error["message"]
    assert isinstance(message, str) and message.strip(), error
    assert "\n" not in message, message
    assert not _NEXT_SENTENCE.search(message), f"more than one sentence: {message}"

    if field is None:
        assert "field" not in error, error
    else:
        assert error.get("field") == field, error
    return error
