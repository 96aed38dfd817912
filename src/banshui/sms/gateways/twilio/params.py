"""The parameters Twilio signed: a POST's form body; a GET has them in its URL."""

from __future__ import annotations

from urllib.parse import parse_qsl

from banshui.sms.gateways.base import InboundRequest

# Twilio sends a few dozen; the cap only keeps a hostile body cheap to read.
MAX_FIELDS = 500


class UnreadableForm(Exception):
    pass


def signed_params(request: InboundRequest) -> list[tuple[str, str]]:
    """Every (name, value) pair of the body, empty values kept, in the order sent."""
    if request.method.upper() == "GET":
        return []

    try:
        text = request.body.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise UnreadableForm("the body is not a UTF-8 form") from None


def message_fields(request: InboundRequest) -> dict[str, str]:
    """The message's fields by name: the form of a POST, the query of a GET."""
    if request.method.upper() == "GET":
        return dict(request.query)
    return dict(signed_params(request))
