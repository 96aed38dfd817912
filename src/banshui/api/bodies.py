"""Request bodies: strict models, and reading a JSON body into one.

Every body the API reads is a ``Body``: no unknown field, no coercion (``"3"``
is not a number), no NUL character in any string, which PostgreSQL cannot
store, and no lone surrogate, which no UTF-8 encoder takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from banshui.core.errors import InvalidInput
from banshui.core.surrogates import NOT_UNICODE, has_lone_surrogate, lone_surrogate_in

_Body = TypeVar("_Body", bound="Body")

NUL = "\x00"
NUL_REFUSED = "must not contain NUL characters"


class InvalidJson(InvalidInput):
    code = "invalid_json"


class Body(BaseModel):
    """A strict request body; a NUL or a lone surrogate is a 422 on its field."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if _holds(value, _has_nul):
            raise PydanticCustomError("nul_character", NUL_REFUSED)
        # pydantic refuses a lone surrogate in a str itself (string_unicode), not
        # in a secret or a key. Not checked before pydantic: a validator that
        # runs first hands JSON on as Python, and strict Python takes no text
        # for a datetime.
        if _holds(value, has_lone_surrogate):
            raise PydanticCustomError("not_unicode", NOT_UNICODE)
        return value


def _has_nul(text: str) -> bool:
    return NUL in text


def _holds(value: object, flaw: Callable[[str], bool]) -> bool:
    """Whether a string of ``value`` (a secret, a key, an item) has the flaw."""
    if isinstance(value, str):
        return flaw(value)
    if isinstance(value, SecretStr):
        return flaw(value.get_secret_value())
    if isinstance(value, BaseModel):
        return any(
            _holds(getattr(value, name), flaw) for name in type(value).model_fields
        )
    if isinstance(value, dict):
        return any(
            _holds(key, flaw) or _holds(item, flaw) for key, item in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds(item, flaw) for item in value)
    return False


def parse_body(model: type[_Body], body: bytes) -> _Body:
    """The body as ``model``; the first problem named as one sentence."""
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise _unreadable(body) from None
        field = ".".join(str(part) for part in first["loc"]) or None
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        raise InvalidInput(message, field=field) from None


def _unreadable(body: bytes) -> InvalidInput:
    # pydantic refuses a lone surrogate as bad JSON; the standard library finds it.
    found = lone_surrogate_in(body)
    if found is not None:
        return InvalidInput(found.message, field=found.field)
    return InvalidJson("the body is not valid JSON")
