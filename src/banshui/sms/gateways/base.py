"""What every inbound gateway format provides: a signature check and a parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


class SignatureRefused(Exception):
    """The request is not from the gateway it claims to be (answered with 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StaleTimestamp(SignatureRefused):
    """Signed, but its timestamp is outside the window: maybe captured earlier."""


class MalformedSms(Exception):
    """A signed request whose body is not a usable SMS (answered with 422)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """The parts of an HTTP request a gateway format may look at."""

    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    # The source's name, from the webhook path.
    source: str = ""


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One part of a long SMS (长短信); ``index`` counts from 1 to ``total``."""

    # Names one long SMS of its source; the parts of one long SMS share it.
    ref: str
    index: int
    total: int


@dataclass(frozen=True, slots=True)
class ReceivedSms:
    """One SMS as a gateway reports it, before it is stored."""

    sender: str
    text: str
    # What makes two deliveries the same SMS for this gateway (docs/gateways.md).
    identity: str
    number: str | None = None
    sim_slot: str | None = None
    gateway_time: str | None = None
    # The field of the gateway's request the number came from, for its errors.
    number_field: str = "number"
    # Set on one part of a long SMS: the inbox keeps it until the rest arrive.
    part: PartInfo | None = None


@dataclass(frozen=True, slots=True)
class Verified:
    """A request whose signature held; ``nonce`` is what a replay would reuse."""

    nonce: str | None
    # Hash of what the nonce vouches for: a used nonce with other content is a replay.
    content_hash: str
    # The sender makes a new nonce for every request, so any reuse is a replay.
    single_use: bool = False


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The body a gateway expects back once its SMS are stored."""

    body: str
    media_type: str


@runtime_checkable
class AcknowledgesItsOwnWay(Protocol):
    """A format whose gateway wants more than banshui's JSON answer (Twilio)."""

    def acknowledgement(self) -> Acknowledgement: ...


class GatewayFormat(Protocol):
    kind: str

    def verify(self, request: InboundRequest, secret: str, now: datetime) -> Verified:
        """Check the signature in constant time; raise SignatureRefused."""
        ...

    def parse(self, request: InboundRequest) -> list[ReceivedSms]:
        """The SMS the request carries; raise MalformedSms."""
        ...

    def receive(
        self, request: InboundRequest, secret: str, now: datetime
    ) -> tuple[Verified, list[ReceivedSms]]:
        """``verify``, then ``parse``: what the webhook asks, in that order.

        Nothing of the body is judged before its signature holds, so an unsigned
        request is refused as such whatever it holds.
        """
        ...
