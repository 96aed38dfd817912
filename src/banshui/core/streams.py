"""Server-sent event streams held open, capped per holder in this process.

A stream costs a socket, a task and its buffers for as long as it stays open,
so one API key (or one console operator) holding thousands of them slows every
other answer. Each holder may keep ``BANSHUI_STREAMS_PER_TENANT`` open at once;
one more is answered 429 until one of them ends. The count is this process's
own: behind several API processes a holder may keep that many in each.
"""

from __future__ import annotations

from collections import Counter

from starlette.responses import ContentStream, StreamingResponse
from starlette.types import Receive, Scope, Send

from banshui.core.errors import TooManyRequests

DEFAULT_LIMIT = 50
# Streams end when their login does, or after minutes (the inbox): a short wait
# may well find a place free.
RETRY_SECONDS = 10


class TooManyStreams(TooManyRequests):
    code = "too_many_streams"


class OpenStreams:
    """How many streams each holder (``tenant:7``, ``operator:3``) has open."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def count(self, holder: str) -> int:
        return self._open[holder]

    def take(self, holder: str) -> Place:
        """One more stream for ``holder``; TooManyStreams once it has ``limit``."""
        if self._open[holder] >= self.limit:
            raise TooManyStreams(
                f"{self.limit} event streams are open already for this caller: "
                f"close one or try again in {RETRY_SECONDS} s",
                retry_after=RETRY_SECONDS,
            )
        self._open[holder] += 1
        return Place(self, holder)

    def release(self, holder: str) -> None:
        """A stream of ``holder`` has ended; through its ``Place``, once."""
        self._open[holder] -= 1
        if self._open[holder] <= 0:
            del self._open[holder]


class Place:
    """One stream's place among its holder's; given back once, however it ends."""

    def __init__(self, streams: OpenStreams, holder: str) -> None:
        self._streams = streams
        self._holder: str | None = holder

    def give_back(self) -> None:
        if self._holder is not None:
            self._streams.release(self._holder)
            self._holder = None


class HeldStream(StreamingResponse):
    """An event stream that gives its place back when it is over.

    The place goes back when the response is done with, not when its generator
    runs out: a client that hangs up stops the stream half-way, and a generator
    that never started has no ``finally`` to run.
    """

    def __init__(
        self, content: ContentStream, place: Place, headers: dict[str, str]
    ) -> None:
        super().__init__(content, media_type="text/event-stream", headers=headers)
        self._place = place

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._place.give_back()
