"""One SMS as a gateway saw it arrive, and one HTTP request the gateway posts for it."""

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from banshui.simulator.state import Delivery, Sms

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Arrival:
    """One SMS as it reached the phone or provider; the same for every post of it.

    `message_id` is the gateway's own id for it. It is random and deliberately not
    drawn from the bureau's seed: a gateway's ids never repeat, not even after the
    bureau is reset with the same seed, and a receiver dedupes on them.
    """

    sms: Sms
    delivery: Delivery
    received_at: datetime
    message_id: str


@dataclass(frozen=True)
class Posting:
    """The body and headers of one POST to the gateway's webhook."""

    body: bytes
    headers: dict[str, str]


def arrive(sms: Sms, delivery: Delivery, received_at: datetime) -> Arrival:
    return Arrival(sms, delivery, received_at, secrets.token_hex(16))


def unix_millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def unix_seconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(seconds=1)


def form_posting(fields: dict[str, str], headers: dict[str, str]) -> Posting:
    body = urlencode(fields).encode("ascii")
    content_type = {"Content-Type": "application/x-www-form-urlencoded"}
    return Posting(body, {**content_type, **headers})


def json_body(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def json_posting(body: bytes, headers: dict[str, str]) -> Posting:
    return Posting(body, {"Content-Type": "application/json", **headers})


def secret_of(delivery: Delivery) -> str:
    # The admin API refuses these gateways without a secret; this guards the rest.
    if not delivery.secret:
        raise ValueError(f"a {delivery.kind} delivery needs a secret to sign with")

    return delivery.secret


def e164(phone: str) -> str:
    return f"+86{phone}"
