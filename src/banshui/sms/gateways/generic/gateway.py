"""banshui's generic signed JSON: one SMS, or one part of a long SMS, per request."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import urlsplit

from banshui import signing
from banshui.core.errors import InvalidInput
from banshui.numbers.phones import normalize_mobile
from banshui.sms.gateways.base import (
    InboundRequest,
    MalformedSms,
    PartInfo,
    ReceivedSms,
    SignatureRefused,
    StaleTimestamp,
    Verified,
)
from banshui.sms.gateways.bodies import read_json
from banshui.sms.gateways.generic.body import GenericSms


class Generic:
    """A JSON body signed over method, path, timestamp, nonce and the body's hash."""

    kind = "generic"

    def verify(self, request: InboundRequest, secret: str, now: datetime) -> Verified:
        try:
            claimed = signing.read_signed(request.headers)
            signing.verify(
                secret,
                claimed,
                request.headers,
                request.method,
                signed_path(request.url),
                request.body,
                now,
            )
        except signing.StaleSignature as error:
            raise StaleTimestamp(str(error)) from None
        except signing.SignatureInvalid as error:
            raise SignatureRefused(str(error)) from None
        except ValueError:
            # read_signed takes any Unicode digit, and int() refuses some ("²").
            raise SignatureRefused("the timestamp is not whole seconds") from None

        # The key is not signed: it only says which source the sender thinks it is.
        if not hmac.compare_digest(claimed.key.encode(), request.source.encode()):
            raise SignatureRefused("X-Banshui-Key is not this source's name")
        digest = hashlib.sha256(request.body).hexdigest()
        return Verified(nonce=claimed.nonce, content_hash=digest, single_use=True)

    def receive(
        self, request: InboundRequest, secret: str, now: datetime
    ) -> tuple[Verified, list[ReceivedSms]]:
        return self.verify(request, secret, now), self.parse(request)

    def parse(self, request: InboundRequest) -> list[ReceivedSms]:
        body = read_json(request.body, GenericSms)
        sms = ReceivedSms(
            sender=body.sender,
            text=body.text,
            identity=json.dumps([self.kind, body.id]),
            number=_mobile(body.number),
            gateway_time=body.sent_at.isoformat(),
            part=_part(body),
        )
        return [sms]


def signed_path(url: str) -> str:
    """The path and query string the sender signed, from the URL it called."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _mobile(number: str) -> str:
    try:
        return normalize_mobile(number, field="number")
    except InvalidInput as error:
        raise MalformedSms(f"number: {error.message}", field="number") from None


def _part(body: GenericSms) -> PartInfo | None:
    if body.part is None:
        return None

    if body.part.index > body.part.total:
        message = "part.index: is larger than part.total"
        raise MalformedSms(message, field="part.index")
    return PartInfo(ref=body.part.ref, index=body.part.index, total=body.part.total)
