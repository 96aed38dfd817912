"""Strict request bodies of the gateway formats, their faults told as MalformedSms."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError

from banshui.core.surrogates import lone_surrogate_in
from banshui.sms.gateways.base import MalformedSms

Model = TypeVar("Model", bound=BaseModel)

_BOM = b"\xef\xbb\xbf"


def _refuse_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text, and no real SMS holds one.
    if "\x00" in value:
        raise ValueError("holds a NUL character")
    return value


# Text that is stored: any string but one with a NUL in it.
StoredText = Annotated[str, AfterValidator(_refuse_nul)]


def read_json(body: bytes, model: type[Model]) -> Model:
    """The body as ``model``, validated strictly; MalformedSms names the field."""
    # Some senders put a byte-order mark before the JSON.
    body = body.removeprefix(_BOM)
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as error:
        raise _refusal(body, error) from None


def _refusal(body: bytes, error: ValidationError) -> MalformedSms:
    # pydantic refuses a lone surrogate as bad JSON; the standard library finds it.
    if error.errors(include_url=False)[0]["type"] == "json_invalid":
        found = lone_surrogate_in(body)
        if found is not None:
            return MalformedSms(found.message, field=found.field or "body")
    return malformed(error)


def validated(data: Any, model: type[Model], at: str = "") -> Model:
    """``data`` (already decoded) as ``model``; ``at`` prefixes the field named."""
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as error:
        raise malformed(error, at) from None


def malformed(error: ValidationError, at: str = "") -> MalformedSms:
    """The first fault of a validation, as one sentence naming its field."""
    first = error.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return MalformedSms("the body is not valid JSON", field="body")

    location = [at] if at else []
    location += [str(part) for part in first["loc"]]
    if not location:
        return MalformedSms("the body is not a JSON object", field="body")

    field = ".".join(location)
    message = str(first["msg"]).removeprefix("Value error, ")
    return MalformedSms(f"{field}: {message}", field=field)
