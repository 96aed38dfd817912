"""A limit on guessing API keys, provider signatures and the chat token, per client.

A client refused 20 times in 15 minutes, for a wrong tenant API key, a wrong
provider signature or a wrong chat robot token (all counted together), is
answered 429 with Retry-After until the oldest refusal leaves the window, and
then even a right key is turned away: the answer tells a guesser nothing.
Refusals of one client are counted one after another, so a burst is held to the
limit; an admitted request only reads the count. A stale timestamp or a replayed
nonce is no guess and does not count. An IPv6 client is counted by its /64.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.orm import Session

from banshui.api.models import KeyRefusal
from banshui.core.client_window import ClientWindow
from banshui.core.errors import TooManyRequests
from banshui.core.locks import take_turn
from banshui.metrics import Gateway, count_refusal
from banshui.runtime import Runtime

CLIENT_LIMIT = 20
CLIENT_WINDOW = timedelta(minutes=15)
WINDOW = ClientWindow(KeyRefusal, CLIENT_LIMIT, CLIENT_WINDOW)


async def turn_away_guessers(runtime: Runtime, client: str, door: Gateway) -> None:
    """Before a key is looked at: 429 while the client's window is full."""
    now = runtime.clock.now()
    # On every request with a key: one trip, on SQLite off the event loop.
    wait = await runtime.db.run_read(
        lambda session: WINDOW.wait_in(session, client, now)
    )
    if wait is not None:
        refuse(door, wait)


def turned_away_in(session: Session, client: str, now: datetime) -> timedelta | None:
    """``turn_away_guessers``'s look, for a read that looks up the key beside it."""
    return WINDOW.wait_in(session, client, now)


async def count_wrong_key(runtime: Runtime, client: str, door: Gateway) -> None:
    """A wrong key or signature, counted against the client; 429 once that is full.

    The caller answers 401 when this returns.
    """
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        # Refusals of one client at once are counted one after another.
        await take_turn(session, f"keys:{WINDOW.key(client)}")
        wait = await WINDOW.wait(session, client, now)
        if wait is None:
            await WINDOW.forget_old(session, now)
            session.add(KeyRefusal(client=WINDOW.key(client), at=now))
    if wait is not None:
        refuse(door, wait)


def refuse(door: Gateway, wait: timedelta) -> NoReturn:
    """429 with Retry-After: the client is turned away for ``wait``."""
    count_refusal(door, "rate_limited")
    seconds = max(1, math.ceil(wait.total_seconds()))
    raise TooManyRequests(
        f"too many refused keys or tokens from this address: try again in {seconds} s",
        retry_after=seconds,
    )
