"""A fresh login (DESIGN §5, steps 4–7 and 9–11): a number, its code, the identity.

The number is the account's own or another of the person's with quota left,
not in use and not resting (R2, R3). Its code is asked for once, awaited
through the number's code source (or typed by a person for an account whose
code goes to their phone), and submitted once. A code refused, lost or late
gets one fresh code; transient answers are retried with back-off; a step a
person must take (R7, R14, a slider) waits for them until the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from banshui.accounts.service import PASSWORD_PURPOSE
from banshui.core.bells import Bells
from banshui.core.clock import Clock, shanghai_day
from banshui.core.db import Database
from banshui.core.settings import Settings
from banshui.core.vault import Vault
from banshui.drivers.base import (
    BureauDriver,
    BureauError,
    FaceCheck,
    Failure,
    Flow,
    SessionHandle,
    Step,
)
from banshui.events import Events
from banshui.login.choice import Plan, numbers_of
from banshui.login.codes import CodeSource, CodeSources
from banshui.login.lanes import LaneKey, NumberLocks
from banshui.login.models import SpentNumber
from banshui.login.ownership import forget_moved_number
from banshui.login.people import (
    TYPED_TOPIC,
    PersonStep,
    checks,
    confirm_identity,
    pass_slider,
    scan_face_check,
    take_typed_code,
    type_code,
)
from banshui.login.progress import (
    RETRY_DELAYS,
    LoginFailed,
    Outcome,
    Progress,
    Report,
    Sleep,
    kept_failing,
    publish,
    retrying,
)
from banshui.login.resting import RestingNumbers
from banshui.login.sessions import SessionStore
from banshui.login.status import Status
from banshui.metrics import SMS_REQUESTED
from banshui.numbers.phones import mask
from banshui.provider.client import ProviderError
from banshui.sms.inbox import NumberAwaited
from banshui.sms.notify import TOPIC as SMS_TOPIC

logger = logging.getLogger(__name__)

DAILY_CODES = 20  # R3: the bureau's limit per number and Asia/Shanghai day
NEARLY_EXHAUSTED = 18  # quota.nearly_exhausted is published at this many
# The bureau's answers to a number that is not (or no longer) the person's.
MAYBE_MOVED = (Failure.BAD_CREDENTIALS, Failure.NOT_REGISTERED)
REFUSED_CODE = (Failure.WRONG_CODE, Failure.CODE_EXPIRED)
# A flow a 5xx lost is logged in again this often (each time with a new code).
LOST_FLOW_RESTARTS = 2


class NumberSpent(Exception):
    """The bureau refused this number a code today: fail over to the next."""


class NumberBusy(Exception):
    """Another process's login awaits a code on this number: use another."""


class NumberRefused(Exception):
    """The password step refused this number: the next may show it moved (R1)."""

    def __init__(self, number: str, error: BureauError) -> None:
        super().__init__(number)
        self.error = error


class CodeMissed(Exception):
    """The code went missing, or the bureau lost the flow after it: try afresh.

    ``lost_flow``: a 5xx answered after its step took effect ended the flow, a
    transient fault, tried again like one; otherwise it costs the fresh code.
    """

    def __init__(self, cause: str, lost_flow: bool = False) -> None:
        super().__init__(cause)
        self.lost_flow = lost_flow


@dataclass(slots=True)
class Blocked:
    """Why a pass over the numbers found none to use right now."""

    busy: bool = False
    rest_ends: datetime | None = None
    # Numbers awaiting a code for a login of another process.
    elsewhere: set[str] = field(default_factory=set)

    def resting_until(self, ends: datetime) -> None:
        self.rest_ends = ends if self.rest_ends is None else min(self.rest_ends, ends)


@dataclass(frozen=True, slots=True)
class Parts:
    """What a fresh login works with; the engine makes them once."""

    db: Database
    clock: Clock
    vault: Vault
    driver: BureauDriver
    sources: CodeSources
    sessions: SessionStore
    numbers: NumberLocks
    resting: RestingNumbers
    events: Events
    settings: Settings
    sleep: Sleep
    report: Report
    # Rings a typed code (people.TYPED_TOPIC) and a number's SMS (notify.TOPIC).
    bells: Bells
    warned: set[tuple[str, str]]


class FreshLogin:
    def __init__(self, parts: Parts) -> None:
        self._p = parts

    async def run(self, progress: Progress, plan: Plan, lane: LaneKey) -> Outcome:
        password = self._p.vault.open(plan.person.password_sealed, PASSWORD_PURPOSE)
        while True:
            outcome = await self._pass(progress, plan, lane, password)
            if outcome is not None:
                return outcome

    async def _pass(
        self, progress: Progress, plan: Plan, lane: LaneKey, password: str
    ) -> Outcome | None:
        """Try the numbers in order; None when the next pass should start over."""
        if progress.remaining(self._p.clock) <= 0:
            raise LoginFailed(
                f"the deadline {progress.deadline_text()} passed before a login "
                f"succeeded: {'; then '.join(progress.misses) or 'nothing was tried'}"
            )
        blocked = Blocked()
        for number in await self._candidates(progress, plan):
            if not self._p.numbers.try_take(number):
                blocked.busy = True
                continue
            try:
                if not await self._usable(number, blocked):
                    continue
                return await self._log_in(progress, plan, lane, number, password)
            except NumberSpent:
                continue
            except NumberBusy:
                blocked.busy = True
                blocked.elsewhere.add(number)
                continue
            except NumberRefused as refused:
                progress.refused[number] = refused.error
                continue
            except CodeMissed as missed:
                pause = self._try_afresh(progress, missed)
                break
            finally:
                self._p.numbers.give_back(number)
        else:
            await self._wait_or_fail(progress, plan, blocked)
            return None

        if pause:
            await self._p.sleep(pause)
        return None

    async def _candidates(self, progress: Progress, plan: Plan) -> list[str]:
        numbers = await self._p.db.run_read(lambda session: numbers_of(session, plan))
        if not numbers:
            raise LoginFailed(
                f"{plan.person.name} has no number at the bureau that banshui may "
                "log in with: each number belongs to one person (R1)"
            )
        return [number for number in numbers if number not in progress.refused]

    async def _usable(self, number: str, blocked: Blocked) -> bool:
        source = await self._p.sources.of(number)
        if await self._codes_left(number, source) <= 0:
            return False
        ends = await self._p.resting.until(number)
        if ends is not None:
            blocked.resting_until(ends)
            return False
        return True

    async def _wait_or_fail(
        self, progress: Progress, plan: Plan, blocked: Blocked
    ) -> None:
        if not blocked.busy and blocked.rest_ends is None:
            raise LoginFailed(self._nothing_left(progress, plan))

        remaining = progress.remaining(self._p.clock)
        if remaining <= 0:
            raise LoginFailed(
                f"the deadline {progress.deadline_text()} passed while every number "
                f"of {plan.person.name} was in use or resting after a code that did "
                "not come"
            )
        seconds = remaining
        if blocked.busy:
            # Freed numbers wake the wait; the cap only bounds a missed wake-up.
            seconds = min(seconds, self._p.settings.code_timeout_seconds)
        if blocked.rest_ends is not None:
            rest = (blocked.rest_ends - self._p.clock.now()).total_seconds()
            seconds = min(seconds, max(rest, 0.01))
        freed = self._number_freed(blocked, seconds) if blocked.busy else None
        await self._nap(seconds, freed)

    async def _number_freed(self, blocked: Blocked, seconds: float) -> None:
        """Until this process gives a number back, or one awaited elsewhere gets
        its SMS (that login's code came: the number awaits nothing any more)."""
        async with contextlib.AsyncExitStack() as stack:
            arrived = [
                await stack.enter_async_context(
                    self._p.bells.listening(SMS_TOPIC, number)
                )
                for number in sorted(blocked.elsewhere)
            ]
            waits = [event.wait() for event in arrived]
            await _first_of([self._p.numbers.wait_for_any(seconds), *waits])

    def _nothing_left(self, progress: Progress, plan: Plan) -> str:
        if not progress.refused:
            return (
                f"every number of {plan.person.name} has used its {DAILY_CODES} "
                "codes today (R3)"
            )
        number, error = next(iter(progress.refused.items()))
        others = " and its other numbers" if len(progress.refused) > 1 else ""
        return (
            f"the bureau refused {plan.person.name}'s login with {mask(number)}"
            f"{others}: {error.code or error.failure.value} {error.message}"
        )

    def _try_afresh(self, progress: Progress, missed: CodeMissed) -> float:
        """How long to pause before the next try; LoginFailed when none is left."""
        if missed.lost_flow and progress.restarts < LOST_FLOW_RESTARTS:
            progress.misses.append(str(missed))
            progress.restarts += 1
            return RETRY_DELAYS[progress.restarts - 1]
        self._spend_fresh_code(progress, str(missed))
        return 0.0

    def _spend_fresh_code(self, progress: Progress, cause: str) -> None:
        progress.misses.append(cause)
        if progress.fresh_codes <= 0:
            raise LoginFailed("; then ".join(progress.misses))
        progress.fresh_codes -= 1
        logger.warning("login %s tries afresh: %s", progress.login_id, cause)

    # One login with one number.

    async def _log_in(
        self, progress: Progress, plan: Plan, lane: LaneKey, number: str, password: str
    ) -> Outcome:
        await self._p.report(progress, Status.REQUESTING_CODE, number=number)
        flow = await self._password_step(progress, plan, number, password)
        await self._forget_moved(progress, plan, number)

        pending: str | None = None
        if flow.needs_code:
            source = await self._p.sources.of(number)
            flow, pending = await self._code_step(progress, plan, flow, number, source)

        handle = await self._identity_step(progress, plan, flow, pending)
        row = await self._p.sessions.keep(lane, number, plan.enterprise.id, handle)
        return Outcome(session_id=row.id, number=number, switched=False)

    async def _password_step(
        self, progress: Progress, plan: Plan, number: str, password: str
    ) -> Flow:
        region, tax_id = plan.enterprise.region, plan.enterprise.tax_id

        def start() -> Awaitable[Flow]:
            return self._p.driver.start(region, tax_id, number, password)

        while True:
            try:
                return await retrying(self._p.sleep, start)
            except BureauError as error:
                if error.failure in MAYBE_MOVED:
                    raise NumberRefused(number, error) from None
                if error.failure is not Failure.UNCONFIRMED_IDENTITY:
                    raise LoginFailed(
                        kept_failing(error, "the password step")
                    ) from None
                step = confirm_identity(
                    plan.person.name, tax_id, plan.identity_code, error.message
                )
                await self._await_person(progress, plan, step)

    async def _forget_moved(self, progress: Progress, plan: Plan, working: str) -> None:
        """The same password works with this number: the refused ones moved (R1)."""
        for number, refusal in list(progress.refused.items()):
            forgot = await forget_moved_number(
                self._p.db,
                self._p.clock,
                person_id=plan.person.id,
                number=number,
                refusal=refusal,
                working=working,
            )
            del progress.refused[number]
            if forgot:
                logger.warning(
                    "%s no longer belongs to person %s at the bureau",
                    mask(number),
                    plan.person.id,
                )
                await publish(
                    self._p.events,
                    "number.moved",
                    {
                        **_about(progress, plan),
                        "number": number,
                        "working_number": working,
                        "bureau_code": refusal.code,
                        "bureau_message": refusal.message,
                    },
                )

    # The code.

    async def _code_step(
        self,
        progress: Progress,
        plan: Plan,
        flow: Flow,
        number: str,
        source: CodeSource,
    ) -> tuple[Flow, str | None]:
        """The flow past its code, and the code if the bureau's answer was lost."""
        while True:
            code = await self._code(progress, plan, flow, number, source)
            await self._p.report(progress, Status.SUBMITTING)
            try:
                return await self._p.driver.submit_code(flow, code), None
            except BureauError as error:
                if error.failure is Failure.UNAVAILABLE:
                    # The bureau may have taken the code before its answer was
                    # lost: sending it again would use it twice. The identity
                    # step tells whether it was taken.
                    return replace(flow, step=Step.IDENTITY, identities=()), code
                if error.failure not in REFUSED_CODE:
                    raise LoginFailed(kept_failing(error, "the code")) from None
                refused = (
                    f"the bureau refused the code sent to {mask(number)} "
                    f"({error.failure.value}): {error.message}"
                )
                if await self._codes_left(number, source) <= 0:
                    raise LoginFailed(
                        f"{refused}; {mask(number)} has no code left today (R3)"
                    ) from None
                self._spend_fresh_code(progress, refused)

    async def _code(
        self,
        progress: Progress,
        plan: Plan,
        flow: Flow,
        number: str,
        source: CodeSource,
    ) -> str:
        expectation = await self._ask_for_code(progress, plan, flow, number, source)
        if plan.login_type == "phone" and number == plan.number:
            try:
                return await self._typed_code(progress, plan, number)
            finally:
                # No SMS of it is awaited here any more: a wait of no time
                # gives the expectation up, so the phone may await the next.
                await source.wait_for_code(expectation, 0)
        return await self._awaited_code(progress, number, source, expectation)

    async def _ask_for_code(
        self,
        progress: Progress,
        plan: Plan,
        flow: Flow,
        number: str,
        source: CodeSource,
    ) -> int:
        """Ask the bureau for one code: counted from here on (R3), sent once."""
        if progress.status is not Status.WAITING_PERSON:
            await self._p.report(progress, Status.REQUESTING_CODE)
        pauses = iter(RETRY_DELAYS)
        while True:
            try:
                expectation = await source.expect_code(
                    number, f"login:{progress.login_id}"
                )
            except NumberAwaited:
                raise NumberBusy(number) from None
            progress.sms_used += 1
            try:
                await self._p.driver.send_code(flow)
            except BureauError as error:
                if error.failure is Failure.UNAVAILABLE:
                    # It may have gone out before the answer failed: await it,
                    # and never send a second one blindly.
                    logger.warning(
                        "asking a code for %s failed (%s): awaiting it anyway",
                        mask(number),
                        error.message,
                    )
                    break
                await source.withdraw(expectation)
                progress.sms_used -= 1
                await self._not_sent(progress, plan, flow, number, error, pauses)
                continue
            break

        SMS_REQUESTED.inc()
        await self._warn_quota(progress, plan, number, source)
        return expectation

    async def _not_sent(
        self,
        progress: Progress,
        plan: Plan,
        flow: Flow,
        number: str,
        error: BureauError,
        pauses: Iterator[float],
    ) -> None:
        """The bureau sent no code: spent, a slider first, or try again."""
        if error.failure is Failure.QUOTA_REFUSED:
            await self._mark_spent(number)
            raise NumberSpent(number)
        if error.failure is Failure.SLIDER_REQUIRED:
            await self._await_person(progress, plan, pass_slider(flow, flow.region))
            return
        pause = next(pauses, None)
        if not error.transient or pause is None:
            raise LoginFailed(kept_failing(error, "sending the code"))
        await self._p.sleep(pause)

    async def _awaited_code(
        self, progress: Progress, number: str, source: CodeSource, expectation: int
    ) -> str:
        await self._p.report(progress, Status.WAITING_CODE)
        timeout = self._p.settings.code_timeout_seconds
        seconds = min(timeout, max(progress.remaining(self._p.clock), 0.0))
        try:
            code = await source.wait_for_code(expectation, seconds)
        except ProviderError as error:
            raise LoginFailed(
                f"the provider of {mask(number)} did not hand over its code "
                f"({error.status} {error.code}): {error.message}"
            ) from None
        if code is not None:
            return code

        await self._p.resting.rest(number)
        if seconds < timeout:
            raise LoginFailed(
                f"the deadline {progress.deadline_text()} passed while waiting for "
                f"the code sent to {mask(number)}"
            )
        raise CodeMissed(f"no code reached {mask(number)} within {timeout:g} s")

    async def _typed_code(self, progress: Progress, plan: Plan, number: str) -> str:
        """The code went to a person's phone (R6): they type it in (§5.10)."""
        step = type_code(progress.login_id, number, plan.person.name)
        async with self._p.bells.listening(TYPED_TOPIC, progress.login_id) as wake:
            while True:
                # Cleared before looking: a code typed after the look wakes us.
                wake.clear()
                code = await take_typed_code(
                    self._p.db, self._p.vault, progress.login_id
                )
                if code is not None:
                    return code
                await self._await_person(progress, plan, step, wake.wait())

    # The identity, and the issuer's face check.

    async def _identity_step(
        self, progress: Progress, plan: Plan, flow: Flow, pending: str | None
    ) -> SessionHandle:
        tax_id, identity_code = plan.enterprise.tax_id, plan.identity_code
        _listed(flow, plan)

        def choose() -> Awaitable[SessionHandle | FaceCheck]:
            return self._p.driver.choose_identity(
                flow, tax_id, identity_code, plan.business
            )

        while True:
            try:
                chosen = await retrying(self._p.sleep, choose)
            except BureauError as error:
                if error.failure is Failure.UNKNOWN_FLOW and pending is not None:
                    # The lost answer was the code's: it was not taken, so it is
                    # submitted now for the first time at the bureau.
                    flow, pending = await self._submit_again(flow, pending), None
                    continue
                await self._identity_refused(progress, plan, error)
                continue
            if isinstance(chosen, FaceCheck):
                return await self._face_check(progress, plan, chosen)
            return chosen

    async def _submit_again(self, flow: Flow, code: str) -> Flow:
        try:
            return await self._p.driver.submit_code(flow, code)
        except BureauError as error:
            raise CodeMissed(
                f"the code step failed at the bureau ({error.failure.value}: "
                f"{error.message})",
                lost_flow=error.transient,
            ) from None

    async def _identity_refused(
        self, progress: Progress, plan: Plan, error: BureauError
    ) -> None:
        if error.failure is Failure.UNKNOWN_FLOW:
            # An answer lost after the step took effect (a 5xx) ended the flow.
            raise CodeMissed(
                f"the bureau ended the login flow before its session: {error.message}",
                lost_flow=True,
            )
        if error.failure is not Failure.UNCONFIRMED_IDENTITY:
            raise LoginFailed(kept_failing(error, "the choice of identity"))
        step = confirm_identity(
            plan.person.name, plan.enterprise.tax_id, plan.identity_code, error.message
        )
        await self._await_person(progress, plan, step)

    async def _face_check(
        self, progress: Progress, plan: Plan, check: FaceCheck
    ) -> SessionHandle:
        """R14: the issuer scans the QR code; the session comes after it."""
        step = scan_face_check(check, plan.person.name)
        driver = self._p.driver
        while True:
            try:
                if await retrying(
                    self._p.sleep, lambda: driver.face_check_passed(check)
                ):
                    return await retrying(
                        self._p.sleep, lambda: driver.session_after_face_check(check)
                    )
            except BureauError as error:
                if error.failure is Failure.UNKNOWN_FLOW:
                    raise CodeMissed(
                        f"the bureau ended the login flow at the face check: "
                        f"{error.message}",
                        lost_flow=True,
                    ) from None
                if error.failure is not Failure.FACE_CHECK_PENDING:
                    raise LoginFailed(kept_failing(error, "the face check")) from None
            await self._await_person(progress, plan, step)

    # People in the loop.

    async def _await_person(
        self,
        progress: Progress,
        plan: Plan,
        step: PersonStep,
        wake: Awaitable[Any] | None = None,
    ) -> None:
        """Show what the person is to do, then wait one back-off, or fail."""
        if progress.person_step != step.kind:
            await self._tell_person(progress, plan, step)

        remaining = progress.remaining(self._p.clock)
        if remaining <= 0:
            if wake is not None and asyncio.iscoroutine(wake):
                wake.close()
            raise LoginFailed(
                f"{step.missed} before the deadline {progress.deadline_text()}"
            )
        assert progress.checks is not None
        await self._nap(min(next(progress.checks), remaining), wake)

    async def _tell_person(
        self, progress: Progress, plan: Plan, step: PersonStep
    ) -> None:
        deadline = progress.deadline_text()
        await self._p.report(
            progress,
            Status.WAITING_PERSON,
            reason=f"{step.todo}, before {deadline}",
            waiting_for=step.kind,
        )
        progress.person_step = step.kind
        progress.checks = checks()
        await publish(
            self._p.events,
            "person.needed",
            {
                **_about(progress, plan),
                "what": step.kind,
                "todo": step.todo,
                "deadline": progress.deadline.isoformat(),
            },
        )

    async def _nap(self, seconds: float, wake: Awaitable[Any] | None) -> None:
        """Sleep (the injected sleep), or less when ``wake`` comes first."""
        if wake is None:
            await self._p.sleep(seconds)
            return
        tasks = {
            asyncio.ensure_future(self._p.sleep(seconds)),
            asyncio.ensure_future(wake),
        }
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # Quota.

    async def _codes_left(self, number: str, source: CodeSource) -> int:
        day = shanghai_day(self._p.clock.now())
        marked = select(SpentNumber.id).where(
            SpentNumber.number == number, SpentNumber.day == day
        )
        spent = await self._p.db.run_read(lambda session: session.scalar(marked))
        if spent is not None:
            return 0
        return DAILY_CODES - await source.spent_today(number)

    async def _mark_spent(self, number: str) -> None:
        # The bureau counts SMS banshui cannot see: believe it for the day.
        logger.warning(
            "the bureau refused a code for %s: spent for today", mask(number)
        )
        day = shanghai_day(self._p.clock.now())
        async with self._p.db.transaction() as session:
            session.add(SpentNumber(number=number, day=day))

    async def _warn_quota(
        self, progress: Progress, plan: Plan, number: str, source: CodeSource
    ) -> None:
        used = await source.spent_today(number)
        day = shanghai_day(self._p.clock.now()).isoformat()
        if used < NEARLY_EXHAUSTED or (number, day) in self._p.warned:
            return
        self._p.warned.add((number, day))
        await publish(
            self._p.events,
            "quota.nearly_exhausted",
            {
                **_about(progress, plan),
                "number": number,
                "day": day,
                "used": used,
                "limit": DAILY_CODES,
            },
        )


async def _first_of(waits: list[Awaitable[Any]]) -> None:
    """Until the first of them is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _listed(flow: Flow, plan: Plan) -> None:
    """R7: the account's identity must be among those the bureau lists."""
    if not flow.identities:
        return
    for identity in flow.identities:
        if (
            identity.tax_id == plan.enterprise.tax_id
            and identity.identity_code == plan.identity_code
        ):
            return
    raise LoginFailed(
        f"the bureau lists no identity ({plan.identity_code}) of {plan.person.name} "
        f"for {plan.enterprise.tax_id}: add the role at the bureau first (R7)"
    )


def _about(progress: Progress, plan: Plan) -> dict[str, Any]:
    """Who and what an event of this login is about (no secret)."""
    return {
        "tenant_id": progress.tenant_id,
        "login_id": progress.login_id,
        "person_id": plan.person.id,
        "person": plan.person.name,
        "tax_id": plan.enterprise.tax_id,
        "business": plan.business,
    }
