"""What one run of a login request has done so far, and how it reports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from banshui.core.clock import SHANGHAI, Clock
from banshui.drivers.base import BureauError, Failure
from banshui.events import Events
from banshui.login.status import Status

logger = logging.getLogger(__name__)

# Transient answers (R11, time-outs, 5xx) are tried again after these pauses.
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)

_T = TypeVar("_T")
Sleep = Callable[[float], Awaitable[None]]


class LoginFailed(Exception):
    """The request cannot succeed; the message is its reason."""


@dataclass(slots=True)
class Outcome:
    session_id: int
    number: str
    switched: bool


@dataclass(slots=True)
class Progress:
    """One run of a request: what it spent and what it is waiting for."""

    login_id: str
    tenant_id: int
    deadline: datetime
    sms_used: int = 0
    status: Status = Status.QUEUED
    # DESIGN §5.9: one fresh code, for a code refused, lost or late.
    fresh_codes: int = 1
    # Flows a 5xx lost after its step took effect, logged in again (transient).
    restarts: int = 0
    misses: list[str] = field(default_factory=list)
    # Numbers whose password step the bureau refused (perhaps moved, R1).
    refused: dict[str, BureauError] = field(default_factory=dict)
    person_step: str | None = None
    checks: Iterator[float] | None = None

    def remaining(self, clock: Clock) -> float:
        return (self.deadline - clock.now()).total_seconds()

    def deadline_text(self) -> str:
        return self.deadline.astimezone(SHANGHAI).isoformat(timespec="seconds")


class Report(Protocol):
    """Save the run's status (and fields of the login) and tell its followers."""

    async def __call__(
        self, progress: Progress, status: Status, **fields: Any
    ) -> None: ...


async def retrying(sleep: Sleep, step: Callable[[], Awaitable[_T]]) -> _T:
    """Transient answers (R11, time-outs, 5xx) are tried again with back-off."""
    for delay in RETRY_DELAYS:
        try:
            return await step()
        except BureauError as error:
            if not error.transient:
                raise
            logger.warning("transient bureau answer, retrying: %s", error.failure)
        await sleep(delay)
    return await step()


def kept_failing(error: BureauError, doing: str) -> str:
    """The reason of a failure, naming the bureau's answer."""
    if not error.transient:
        return f"the bureau refused {doing} ({error.failure.value}): {error.message}"
    tries = len(RETRY_DELAYS) + 1
    said = f"{error.code} {error.message}" if error.code else error.message
    rule = " (R11)" if error.failure is Failure.PERSON_NOT_FOUND else ""
    return (
        f"the bureau kept failing {doing}: {error.failure.value} ({said}) "
        f"after {tries} tries{rule}"
    )


async def publish(events: Events, kind: str, data: dict[str, Any]) -> None:
    """Tell subscribers; a failure to tell never fails the login."""
    try:
        await events.publish(kind, data)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("publishing %s failed", kind)
