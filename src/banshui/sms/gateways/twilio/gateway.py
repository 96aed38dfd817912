"""Twilio Programmable Messaging: its incoming-message webhook as banshui's SMS."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from banshui.core.errors import InvalidInput
from banshui.numbers.phones import normalize_mobile
from banshui.sms.gateways.base import (
    Acknowledgement,
    InboundRequest,
    MalformedSms,
    ReceivedSms,
    SignatureRefused,
    Verified,
)
from banshui.sms.gateways.bodies import validated
from banshui.sms.gateways.twilio.message import IncomingMessage
from banshui.sms.gateways.twilio.params import (
    UnreadableForm,
    message_fields,
    signed_params,
)
from banshui.sms.gateways.twilio.signature import check

# An empty TwiML answer: stored, and nothing to reply to the sender.
EMPTY_TWIML = Acknowledgement(body="<Response/>", media_type="text/xml")


class Twilio:
    """Twilio's webhook: a form signed over the public URL and every parameter."""

    kind = "twilio"

    def verify(self, request: InboundRequest, secret: str, now: datetime) -> Verified:
        try:
            params = signed_params(request)
        except UnreadableForm as error:
            raise SignatureRefused(str(error)) from None
        check(request.headers, request.url, params, secret)

        # No timestamp, no nonce: a replay is a retry, stored once by MessageSid.
        digest = hashlib.sha256(request.body).hexdigest()
        return Verified(nonce=None, content_hash=digest)

    def receive(
        self, request: InboundRequest, secret: str, now: datetime
    ) -> tuple[Verified, list[ReceivedSms]]:
        return self.verify(request, secret, now), self.parse(request)

    def parse(self, request: InboundRequest) -> list[ReceivedSms]:
        try:
            fields = message_fields(request)
        except UnreadableForm as error:
            raise MalformedSms(str(error), field="body") from None

        message = validated(fields, IncomingMessage)
        sms = ReceivedSms(
            sender=_sender(message),
            text=message.body,
            identity=json.dumps([self.kind, message.message_sid]),
            number=_mainland_mobile(message.to),
            number_field="To",
        )
        return [sms]

    def acknowledgement(self) -> Acknowledgement:
        return EMPTY_TWIML


def _sender(message: IncomingMessage) -> str:
    sender = message.sender.strip()
    if not sender:
        raise MalformedSms("From: is empty", field="From")
    return sender


def _mainland_mobile(to: str) -> str | None:
    try:
        return normalize_mobile(to, field="To")
    except InvalidInput:
        # A Twilio number abroad: the source's own number says which it stands for.
        return None
