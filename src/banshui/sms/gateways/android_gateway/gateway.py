"""SMS Gateway for Android: its webhook requests as banshui's SMS."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from banshui.core.errors import InvalidInput
from banshui.numbers.phones import normalize_mobile
from banshui.sms.gateways.android_gateway.envelope import (
    RECEIVED,
    Envelope,
    ReceivedPayload,
)
from banshui.sms.gateways.android_gateway.signature import check
from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    ReceivedSms,
    Verified,
)
from banshui.sms.gateways.bodies import read_json, validated


class AndroidGateway:
    """The app's webhook: a JSON envelope signed over the body and a timestamp."""

    kind = "android-gateway"

    def verify(self, request: InboundRequest, secret: str, now: datetime) -> Verified:
        check(request.headers, request.body, secret, now)

        # The signature covers the body and a timestamp held to a window: there is
        # no nonce to remember, and a retry days later is a new, valid request.
        digest = hashlib.sha256(request.body).hexdigest()
        return Verified(nonce=None, content_hash=digest)

    def receive(
        self, request: InboundRequest, secret: str, now: datetime
    ) -> tuple[Verified, list[ReceivedSms]]:
        return self.verify(request, secret, now), self.parse(request)

    def parse(self, request: InboundRequest) -> list[ReceivedSms]:
        envelope = read_json(request.body, Envelope)
        # Sent, delivered, ping …: acknowledged, so the app stops retrying them.
        if envelope.event != RECEIVED:
            return []

        payload = validated(envelope.payload, ReceivedPayload, at="payload")
        sms = ReceivedSms(
            sender=_sender(payload),
            text=payload.message,
            identity=json.dumps([self.kind, envelope.device_id, payload.message_id]),
            number=_mainland_mobile(payload.recipient),
            number_field="payload.recipient",
            sim_slot=_slot(payload.sim_number),
            gateway_time=payload.received_at,
        )
        return [sms]


def _sender(payload: ReceivedPayload) -> str:
    sender = (payload.sender or payload.phone_number or "").strip()
    if not sender:
        raise MalformedSms("payload.sender is missing or empty", field="payload.sender")
    return sender


def _mainland_mobile(recipient: str | None) -> str | None:
    """The number that received the SMS, when the phone knows it and it is ours."""
    if not recipient:
        return None
    try:
        return normalize_mobile(recipient, field="payload.recipient")
    except InvalidInput:
        # Dual-SIM phones often report no number or a foreign one: the source's
        # number or SIM slot says it instead.
        return None


def _slot(sim_number: int | None) -> str | None:
    return str(sim_number) if sim_number is not None else None
