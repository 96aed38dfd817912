"""Verification codes (验证码): the day's quota (R3), issuing, checking, single use.

A login flow and a portal request hold a code the same way: the current one, the
ones it replaced, and the wrong tries that lock it after five.
"""

from datetime import datetime, timedelta
from typing import Protocol

from banshui.simulator import errors
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import bureau_day
from banshui.simulator.state import Cause, IssuedCode


class CodeHolder(Protocol):
    """What waits for a code: a login flow or a portal request."""

    code: IssuedCode | None
    superseded: set[str]
    wrong_tries: int
    locked: bool


def issue(
    bureau: Bureau, holder: CodeHolder, phone: str, cause: Cause, now: datetime
) -> IssuedCode:
    """A fresh code for the holder, replacing its last, counted for the day (R3)."""
    _within_daily_limit(bureau, phone, cause, now)

    if holder.code is not None and not holder.code.used:
        holder.superseded.add(holder.code.value)

    valid = timedelta(seconds=bureau.config.code_valid_seconds)
    holder.code = IssuedCode(bureau.state.new_code(phone), expires_at=now + valid)
    bureau.state.codes_sent[(phone, bureau_day(now))] += 1
    return holder.code


def _within_daily_limit(
    bureau: Bureau, phone: str, cause: Cause, now: datetime
) -> None:
    day = bureau_day(now)
    if bureau.state.codes_sent[(phone, day)] < bureau.config.daily_code_limit:
        return

    # A person at the keyboard may hit the limit; banshui never should.
    if cause == "banshui":
        bureau.state.violations.over_quota_requests += 1

    raise errors.daily_limit_reached()


def refuse_reuse(bureau: Bureau, phone: str, code: str) -> None:
    """A code the phone already used is refused, and counted (code_reused)."""
    if code in bureau.state.used_codes[phone]:
        bureau.state.violations.code_reused += 1
        raise errors.code_expired()


def accept(bureau: Bureau, holder: CodeHolder, phone: str, code: str) -> None:
    """Accept the holder's current code once; else say why not, counting misses."""
    current = holder.code
    if current is not None and code == current.value:
        _use(bureau, current, phone)
        return

    if code in holder.superseded:
        raise errors.code_expired()

    holder.wrong_tries += 1
    tries_left = bureau.config.wrong_code_limit - holder.wrong_tries
    if tries_left <= 0:
        holder.locked = True
        raise errors.code_locked()

    raise errors.wrong_code(tries_left)


def _use(bureau: Bureau, code: IssuedCode, phone: str) -> None:
    if bureau.clock.now() >= code.expires_at:
        raise errors.code_expired()

    code.used = True
    bureau.state.used_codes[phone].add(code.value)
