"""Lanes (通道): one person in one region is served serially, in arrival order (R4)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from typing import NamedTuple


class LaneKey(NamedTuple):
    person_id: int
    region: str


class Lanes:
    """A lane is held from the start of a login until its lease ends.

    ``asyncio.Lock`` wakes its waiters first come, first served, and may be
    released by another task: the release call arrives on an HTTP request.
    """

    def __init__(self) -> None:
        self._locks: dict[LaneKey, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._holders: dict[LaneKey, str] = {}
        self._waiting: Counter[LaneKey] = Counter()

    def busy(self, key: LaneKey) -> bool:
        # A released lock stays unlocked until the waiter it woke runs: count
        # the waiters too, or a newcomer would take itself for first in line.
        return self._locks[key].locked() or self._waiting[key] > 0

    async def acquire(
        self, key: LaneKey, login_id: str, seconds: float | None = None
    ) -> bool:
        """Wait for the lane, at most ``seconds``; whether it was taken."""
        self._waiting[key] += 1
        try:
            # wait_for hands back a lock acquired as the time ran out, never
            # dropping it on the floor.
            await asyncio.wait_for(self._locks[key].acquire(), seconds)
        except TimeoutError:
            return False
        finally:
            self._waiting[key] -= 1
        self._holders[key] = login_id
        return True

    def release(self, key: LaneKey, login_id: str) -> None:
        if self._holders.get(key) != login_id:
            return  # released already (lease expiry and release can race)
        del self._holders[key]
        self._locks[key].release()

    def holder(self, key: LaneKey) -> str | None:
        return self._holders.get(key)


class NumberLocks:
    """While a number's code is awaited, no other login uses that number."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._freed = asyncio.Event()

    def try_take(self, number: str) -> bool:
        if number in self._taken:
            return False
        self._taken.add(number)
        return True

    def give_back(self, number: str) -> None:
        self._taken.discard(number)
        self._freed.set()

    async def wait_for_any(self, seconds: float) -> None:
        self._freed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._freed.wait(), seconds)
