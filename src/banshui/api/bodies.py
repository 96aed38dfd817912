"""Reading a JSON body into a strict model, after the caller is authenticated."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from banshui.core.errors import InvalidInput

_Model = TypeVar("_Model", bound=BaseModel)


class InvalidJson(InvalidInput):
    code = "invalid_json"


def parse_body(model: type[_Model], body: bytes) -> _Model:
    """The body as ``model``; the first problem named as one sentence."""
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidJson("the body is not valid JSON") from None
        field = ".".join(str(part) for part in first["loc"]) or None
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        raise InvalidInput(message, field=field) from None
