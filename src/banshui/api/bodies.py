"""Request bodies: strict models, and reading a JSON body into one.

Every body the API reads is a ``Body``: no unknown field, no coercion (``"3"``
is not a number) and no NUL character in any string, which PostgreSQL cannot
store. ``parse_body`` holds a model that is not a ``Body`` to the same NUL rule.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from banshui.core.errors import InvalidInput

_Model = TypeVar("_Model", bound=BaseModel)

NUL = "\x00"
NUL_REFUSED = "must not contain NUL characters"


class InvalidJson(InvalidInput):
    code = "invalid_json"


class Body(BaseModel):
    """A request body, checked strictly; a NUL anywhere is a 422 on its field."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if holds_nul(value):
            raise PydanticCustomError("nul_character", NUL_REFUSED)
        return value


def holds_nul(value: object) -> bool:
    """Whether a string of ``value`` (a secret, a key, an item) holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, SecretStr):
        return NUL in value.get_secret_value()
    if isinstance(value, BaseModel):
        return nul_field(value) is not None
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(holds_nul(item) for item in value)
    return False


def nul_field(model: BaseModel) -> str | None:
    """The first field of ``model`` holding a NUL, dotted when nested; or None."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        label = info.alias or name
        if isinstance(value, BaseModel):
            inner = nul_field(value)
            if inner is not None:
                return f"{label}.{inner}"
        elif holds_nul(value):
            return label
    return None


def parse_body(model: type[_Model], body: bytes) -> _Model:
    """The body as ``model``; the first problem named as one sentence."""
    try:
        parsed = model.model_validate_json(body or b"{}")
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidJson("the body is not valid JSON") from None
        field = ".".join(str(part) for part in first["loc"]) or None
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        raise InvalidInput(message, field=field) from None
    # A Body has refused a NUL already; any other model is checked here.
    field = None if isinstance(parsed, Body) else nul_field(parsed)
    if field is not None:
        raise InvalidInput(f"{field}: {NUL_REFUSED}", field=field)
    return parsed
