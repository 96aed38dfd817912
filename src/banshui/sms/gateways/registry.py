"""The gateway formats banshui understands, by the kind in the webhook path."""

from __future__ import annotations

from banshui.core.errors import NotFound
from banshui.sms.gateways.base import GatewayFormat
from banshui.sms.gateways.smsforwarder import SmsForwarder

_FORMATS: dict[str, GatewayFormat] = {
    SmsForwarder.kind: SmsForwarder(),
}


def gateway_for(kind: str) -> GatewayFormat:
    try:
        return _FORMATS[kind]
    except KeyError:
        raise NotFound(f"no gateway format {kind!r}") from None
