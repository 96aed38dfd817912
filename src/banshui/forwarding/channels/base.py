"""What every outbound channel provides: its settings checked, and a send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from banshui.numbers.phones import mask


class SendFailed(Exception):
    """A send that did not go through; the message never holds a secret."""

    transient = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientFailure(SendFailed):
    """Worth trying again later: a time-out, a 5xx, a 408 or 429, a rate limit."""


class PermanentFailure(SendFailed):
    """Trying again cannot help: bad credentials, a refused request, no phone."""

    transient = False


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One stored SMS on its way out through one channel."""

    # The stored SMS's id: a receiver that acted on a request without answering
    # in time gets it again (a retry), so receivers dedupe on it.
    sms_id: int
    number: str
    sender: str
    text: str
    received_at: datetime
    code: str | None
    # The number's bound real phone; only SMS channels use it.
    to: str | None
    # The clock's time of this attempt, for signatures with a timestamp.
    sent_at: datetime

    @property
    def forwarded_text(self) -> str:
        """``【办税小号 199****0001】来自 12366：…``: which sub-number, from whom."""
        return f"【办税小号 {mask(self.number)}】来自 {self.sender}：{self.text}"


class Channel(Protocol):
    kind: str
    # True when the channel sends an SMS: then it goes only to the bound phone.
    sends_sms: bool
    # Settings that are credentials (a robot URL carrying its token): sealed.
    sealed_keys: frozenset[str]

    def configure(self, config: dict[str, str], secret: str | None) -> dict[str, str]:
        """The settings with defaults filled in; raise InvalidInput naming one."""
        ...

    async def send(
        self,
        message: Outgoing,
        config: dict[str, Any],
        secret: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        """Send once; raise TransientFailure or PermanentFailure."""
        ...


def phone_e164(message: Outgoing) -> str:
    """``+86…`` of the bound real phone; without one an SMS channel cannot send."""
    if message.to is None:
        raise PermanentFailure("the number has no bound real phone")
    return f"+86{message.to}"
