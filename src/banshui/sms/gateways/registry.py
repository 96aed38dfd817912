"""The gateway formats banshui understands, by the kind in the webhook path."""

from __future__ import annotations

from banshui.core.errors import NotFound
from banshui.sms.gateways.android_gateway import AndroidGateway
from banshui.sms.gateways.base import GatewayFormat
from banshui.sms.gateways.generic import Generic
from banshui.sms.gateways.smsforwarder import SmsForwarder
from banshui.sms.gateways.twilio import Twilio

_FORMATS: dict[str, GatewayFormat] = {
    SmsForwarder.kind: SmsForwarder(),
    AndroidGateway.kind: AndroidGateway(),
    Twilio.kind: Twilio(),
    Generic.kind: Generic(),
}


def gateway_for(kind: str) -> GatewayFormat:
    try:
        return _FORMATS[kind]
    except KeyError:
        raise NotFound(f"no gateway format {kind!r}") from None
