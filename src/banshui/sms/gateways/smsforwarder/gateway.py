"""SmsForwarder (短信转发器, an Android app): its webhook requests as banshui's SMS."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    ReceivedSms,
    Verified,
)
from banshui.sms.gateways.smsforwarder.fields import Fields, read_fields
from banshui.sms.gateways.smsforwarder.signature import check, timestamp_ms
from banshui.sms.gateways.smsforwarder.template import slot_of, unwrap

MAX_SENDER = 100
MAX_RECEIVE_TIME = 40
# Without a receive time, deliveries are told apart by the app's send time.
BUCKET_MS = 10_000


@dataclass(frozen=True, slots=True)
class _Content:
    """What a request says about its SMS, read without judging it."""

    sender: str
    text: str
    receive_time: str | None
    sim_slot: str | None


class SmsForwarder:
    """SmsForwarder's webhook: form, query or JSON, signed over the timestamp only."""

    kind = "smsforwarder"

    def verify(self, request: InboundRequest, secret: str, now: datetime) -> Verified:
        fields = read_fields(request)
        return _verified(fields, _content(fields), secret, now)

    def parse(self, request: InboundRequest) -> list[ReceivedSms]:
        fields = read_fields(request)
        return _parsed(fields, _content(fields))

    def receive(
        self, request: InboundRequest, secret: str, now: datetime
    ) -> tuple[Verified, list[ReceivedSms]]:
        # The fields and the template are read once for both: they are most of
        # what either step costs.
        fields = read_fields(request)
        content = _content(fields)
        return _verified(fields, content, secret, now), _parsed(fields, content)


def _verified(
    fields: Fields, content: _Content, secret: str, now: datetime
) -> Verified:
    nonce = check(fields.get("timestamp"), fields.get("sign"), secret, now)

    # The sign vouches for nothing but the timestamp: the hash is what lets the
    # inbox tell the app's retry from a replay with other content.
    return Verified(nonce=nonce, content_hash=_content_hash(content))


def _parsed(fields: Fields, content: _Content) -> list[ReceivedSms]:
    if fields.body_error is not None:
        raise MalformedSms(fields.body_error, field="body")

    _check(content)
    sms = ReceivedSms(
        sender=content.sender,
        text=content.text,
        identity=_identity(content, fields),
        sim_slot=content.sim_slot,
        gateway_time=content.receive_time,
    )
    return [sms]


def _content(fields: Fields) -> _Content:
    sender = (fields.get("from") or "").strip()
    unwrapped = unwrap(fields.get("content") or "", sender)

    # Users who template [org_content] send the raw SMS: better than unwrapping.
    original = (fields.get("org_content") or "").strip()
    # Kept as text: app versions disagree on its zone (the separate field has been
    # UTC while the template line was the phone's local time).
    receive_time = (fields.get("receive_time") or "").strip() or unwrapped.receive_time
    card_slot = slot_of(fields.get("card_slot") or "")

    return _Content(
        sender=sender[:MAX_SENDER],
        text=original or unwrapped.text,
        receive_time=receive_time,
        sim_slot=card_slot or unwrapped.sim_slot,
    )


def _check(content: _Content) -> None:
    if not content.sender:
        raise MalformedSms("from is missing or empty", field="from")
    if not content.text:
        raise MalformedSms("content holds no SMS text", field="content")

    receive_time = content.receive_time or ""
    if len(receive_time) > MAX_RECEIVE_TIME:
        message = f"receive_time is longer than {MAX_RECEIVE_TIME} characters"
        raise MalformedSms(message, field="receive_time")

    # PostgreSQL refuses NUL in text, and no real SMS holds one.
    parts = {
        "from": content.sender,
        "content": content.text,
        "receive_time": receive_time,
    }
    for name, value in parts.items():
        if "\x00" in value:
            raise MalformedSms(f"{name} holds a NUL character", field=name)


def _identity(content: _Content, fields: Fields) -> str:
    """What makes two deliveries the same SMS (docs/gateways.md).

    With a receive time, it is the same sender, text and receive time. Without one,
    it is the same sender and text sent in the same 10-second bucket of the app's
    timestamp: true twins that close together cannot be told apart (they are
    stored once), and a repeat whose two sends straddle a bucket edge is stored
    twice.

    JSON keeps the parts apart whatever they hold. Joined by newlines, a sender
    whose last line begins the text was one SMS with the sender without it.
    """
    if content.receive_time is not None:
        return json.dumps(["rt", content.receive_time, content.sender, content.text])

    sent_ms = timestamp_ms(fields.get("timestamp"))
    if sent_ms is None:
        raise MalformedSms(
            "timestamp is needed, in milliseconds, when no receive_time is sent",
            field="timestamp",
        )
    return json.dumps(["ts", content.sender, content.text, sent_ms // BUCKET_MS])


def _content_hash(content: _Content) -> str:
    # JSON keeps the parts apart whatever they contain; ASCII escapes keep it
    # encodable even for text that is not valid Unicode.
    parts = [content.sender, content.text, content.receive_time, content.sim_slot]
    return hashlib.sha256(json.dumps(parts).encode("ascii")).hexdigest()
