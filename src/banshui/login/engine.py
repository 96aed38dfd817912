"""The engine: turns a login request into a leased bureau session (DESIGN §5)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from banshui.accounts.models import Enterprise
from banshui.accounts.service import PASSWORD_PURPOSE
from banshui.audit.log import record
from banshui.core.clock import Clock, shanghai_day
from banshui.core.db import Database
from banshui.core.errors import Conflict
from banshui.core.settings import Settings
from banshui.core.vault import Vault
from banshui.drivers.base import BureauDriver, BureauError, Failure, Flow
from banshui.login.choice import NoAccount, Plan, choose_account, numbers_of
from banshui.login.feed import LoginFeed
from banshui.login.lanes import LaneKey, Lanes, NumberLocks
from banshui.login.models import BureauSession, LoginEvent, LoginRequest, SpentNumber
from banshui.login.requests import get_login, view
from banshui.login.sessions import SessionStore
from banshui.login.status import IN_FLIGHT, Status
from banshui.metrics import LOGINS_FINISHED, SMS_REQUESTED
from banshui.numbers.phones import mask
from banshui.sms.inbox import Inbox

logger = logging.getLogger(__name__)

DAILY_CODES = 20  # R3: the bureau's limit per number and Asia/Shanghai day
RETRY_DELAYS = (0.2, 0.5, 1.0)

_T = TypeVar("_T")
Sleep = Callable[[float], Awaitable[None]]


class LoginFailed(Exception):
    """The request cannot succeed; the message is its reason."""


class NumberSpent(Exception):
    """The bureau refused this number a code today: fail over to the next."""


@dataclass(slots=True)
class Outcome:
    session_id: int
    number: str
    switched: bool


@dataclass(slots=True)
class Progress:
    """What one run has spent so far, saved with every status change."""

    login_id: str
    sms_used: int = 0


class LoginEngine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        vault: Vault,
        inbox: Inbox,
        driver: BureauDriver,
        settings: Settings,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._db = db
        self._clock = clock
        self._vault = vault
        self._inbox = inbox
        self._driver = driver
        self._settings = settings
        self._sleep = sleep
        self._lanes = Lanes()
        self._numbers = NumberLocks()
        self._sessions = SessionStore(db, vault, clock)
        self._held: dict[str, LaneKey] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.feed = LoginFeed()

    async def start(self) -> None:
        """Pick up what a previous process left, then watch leases."""
        await self._recover()
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def submit(self, login_id: str) -> None:
        task = asyncio.create_task(self._run(login_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def release(self, login_id: str, tenant_id: int) -> LoginRequest:
        login = await get_login(self._db, login_id, tenant_id)
        if login.status != Status.SUCCEEDED:
            raise Conflict(f"the login holds no lease (it is {login.status})")
        released = await self._end_lease(login_id, Status.RELEASED, None)
        return released

    async def session_for(
        self, login_id: str, tenant_id: int, actor: str
    ) -> dict[str, Any]:
        """The session hand-out: only to the tenant that asked, only under lease."""
        login = await get_login(self._db, login_id, tenant_id)
        if not self._lease_held(login) or login.session_id is None:
            raise Conflict(f"the login holds no lease (it is {login.status})")

        async with self._db.transaction() as session:
            row = await session.get(BureauSession, login.session_id)
            enterprise = await session.get(Enterprise, login.enterprise_id)
            assert row is not None and enterprise is not None
            record(
                session,
                self._clock,
                actor=actor,
                action="session.handed_out",
                subject=f"login:{login_id}",
                detail=f"session:{row.id}",
            )
        handle = self._sessions.handle(row)
        return {
            "base_url": handle.base_url,
            "cookies": handle.cookies,
            "identity_code": row.identity_code,
            "tax_id": enterprise.tax_id,
            "enterprise_name": enterprise.name,
            "region": row.region,
            "lease_expires_at": login.lease_expires_at.isoformat()
            if login.lease_expires_at
            else None,
        }

    async def sweep_leases(self) -> int:
        """End every lease whose time is up; the lane is free again."""
        now = self._clock.now()
        async with self._db.session() as session:
            ids = list(
                await session.scalars(
                    select(LoginRequest.id).where(
                        LoginRequest.status == Status.SUCCEEDED,
                        LoginRequest.lease_expires_at <= now,
                    )
                )
            )
        for login_id in ids:
            await self._end_lease(login_id, Status.EXPIRED, "the lease timed out")
        return len(ids)

    # The run of one request.

    async def _run(self, login_id: str) -> None:
        progress = Progress(login_id)
        try:
            await self._serve(progress)
        except asyncio.CancelledError:
            raise
        except LoginFailed as failure:
            self._release_lane(login_id)
            await self._finish_failed(progress, str(failure))
        except Exception as error:
            logger.exception("login %s failed unexpectedly", login_id)
            self._release_lane(login_id)
            await self._finish_failed(
                progress, f"internal error: {type(error).__name__}"
            )

    async def _serve(self, progress: Progress) -> None:
        login_id = progress.login_id
        plan = await self._plan(login_id)
        lane = LaneKey(plan.person.id, plan.enterprise.region)
        await self._set(
            progress,
            Status.QUEUED,
            account_id=plan.account.id,
            person_id=plan.person.id,
            region=lane.region,
        )

        # No await between the check and taking a free lane: two requests asked
        # at once must not both see it free, or the one that waits shows queued.
        if self._lanes.busy(lane):
            await self._set(progress, Status.WAITING_LANE)
        await self._lanes.acquire(lane, login_id)
        self._held[login_id] = lane
        outcome = await self._reuse(progress, plan, lane)
        if outcome is None:
            outcome = await self._fresh(progress, plan, lane)

        lease = self._clock.now() + timedelta(seconds=self._settings.lease_seconds)
        await self._set(
            progress,
            Status.SUCCEEDED,
            session_id=outcome.session_id,
            number=outcome.number,
            switched=outcome.switched,
            lease_expires_at=lease,
            reason=None,
        )
        LOGINS_FINISHED.labels(status=Status.SUCCEEDED).inc()

    async def _plan(self, login_id: str) -> Plan:
        async with self._db.session() as session:
            login = await session.get(LoginRequest, login_id)
            assert login is not None
            enterprise = await session.get(Enterprise, login.enterprise_id)
            assert enterprise is not None
            try:
                return await choose_account(
                    session, enterprise, login.business, login.requested_account_id
                )
            except NoAccount as error:
                raise LoginFailed(str(error)) from None

    async def _reuse(
        self, progress: Progress, plan: Plan, lane: LaneKey
    ) -> Outcome | None:
        """A live session of the lane: the same enterprise, or a switch (R5)."""
        live = await self._sessions.live(lane)
        if live is None:
            return None

        row, handle = live
        probe = await self._retrying(lambda: self._driver.probe(handle))
        if not probe.alive:
            await self._sessions.dropped(row.id)
            return None

        if row.enterprise_id == plan.enterprise.id:
            await self._sessions.touched(row.id)
            return Outcome(session_id=row.id, number=row.number, switched=False)

        try:
            await self._retrying(
                lambda: self._driver.switch(handle, plan.enterprise.tax_id)
            )
        except BureauError as error:
            if error.failure is Failure.SESSION_ENDED:
                await self._sessions.dropped(row.id)
                return None
            raise LoginFailed(_refusal(error)) from None
        await self._sessions.switched(row.id, plan.enterprise.id, plan.identity_code)
        return Outcome(session_id=row.id, number=row.number, switched=True)

    async def _fresh(self, progress: Progress, plan: Plan, lane: LaneKey) -> Outcome:
        """Log in anew with the first number that is free and has quota (R2, R3)."""
        async with self._db.session() as session:
            candidates = await numbers_of(session, plan)
        password = self._vault.open(plan.person.password_sealed, PASSWORD_PURPOSE)

        while True:
            busy = False
            for number in candidates:
                if not self._numbers.try_take(number):
                    busy = True
                    continue
                try:
                    if await self._codes_left(number) <= 0:
                        continue
                    return await self._log_in(progress, plan, lane, number, password)
                except NumberSpent:
                    continue
                finally:
                    self._numbers.give_back(number)

            if not busy:
                raise LoginFailed(
                    f"every number of {plan.person.name} has used its "
                    f"{DAILY_CODES} codes today (R3)"
                )
            await self._numbers.wait_for_any(self._settings.code_timeout_seconds)

    async def _log_in(
        self, progress: Progress, plan: Plan, lane: LaneKey, number: str, password: str
    ) -> Outcome:
        tax_id = plan.enterprise.tax_id
        await self._set(progress, Status.REQUESTING_CODE, number=number)
        flow = await self._bureau(
            lambda: self._driver.start(lane.region, tax_id, number, password)
        )
        if flow.needs_code:
            flow = await self._code_step(progress, flow, number)

        _check_identity(flow, tax_id, plan.identity_code)
        handle = await self._bureau(
            lambda: self._driver.choose_identity(flow, tax_id, plan.identity_code)
        )
        row = await self._sessions.keep(lane, number, plan.enterprise.id, handle)
        return Outcome(session_id=row.id, number=number, switched=False)

    async def _code_step(self, progress: Progress, flow: Flow, number: str) -> Flow:
        """Send, await and submit the code; a wrong or expired one gets one more."""
        for attempt in range(2):
            code = await self._request_code(progress, flow, number)
            await self._set(progress, Status.SUBMITTING)
            try:
                return await self._driver.submit_code(flow, code)
            except BureauError as error:
                retry = error.failure in (Failure.WRONG_CODE, Failure.CODE_EXPIRED)
                if not retry or attempt == 1 or await self._codes_left(number) <= 0:
                    raise LoginFailed(_refusal(error)) from None
        raise AssertionError("unreachable")

    async def _request_code(self, progress: Progress, flow: Flow, number: str) -> str:
        expectation = await self._inbox.expect_code(
            number, f"login:{progress.login_id}"
        )
        progress.sms_used += 1
        try:
            await self._retrying(lambda: self._driver.send_code(flow))
        except BureauError as error:
            if error.failure is not Failure.QUOTA_REFUSED:
                raise LoginFailed(_refusal(error)) from None
            await self._inbox.withdraw(expectation)
            progress.sms_used -= 1
            await self._mark_spent(number)
            raise NumberSpent(number) from None

        SMS_REQUESTED.inc()
        await self._set(progress, Status.WAITING_CODE)
        seconds = self._settings.code_timeout_seconds
        code = await self._inbox.wait_for_code(expectation, seconds)
        if code is None:
            raise LoginFailed(f"no code reached {mask(number)} within {seconds:g} s")
        return code

    async def _codes_left(self, number: str) -> int:
        day = shanghai_day(self._clock.now())
        async with self._db.session() as session:
            spent = await session.scalar(
                select(SpentNumber.id).where(
                    SpentNumber.number == number, SpentNumber.day == day
                )
            )
        if spent is not None:
            return 0
        return DAILY_CODES - await self._inbox.spent_today(number)

    async def _mark_spent(self, number: str) -> None:
        # The bureau counts SMS banshui cannot see: believe it for the day.
        logger.warning(
            "the bureau refused a code for %s: spent for today", mask(number)
        )
        async with self._db.transaction() as session:
            session.add(SpentNumber(number=number, day=shanghai_day(self._clock.now())))

    async def _bureau(self, step: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await self._retrying(step)
        except BureauError as error:
            raise LoginFailed(_refusal(error)) from None

    async def _retrying(self, step: Callable[[], Awaitable[_T]]) -> _T:
        """Transient answers (R11, time-outs, 5xx) are tried again with back-off."""
        for delay in RETRY_DELAYS:
            try:
                return await step()
            except BureauError as error:
                if not error.transient:
                    raise
                logger.warning("transient bureau answer, retrying: %s", error.failure)
            await self._sleep(delay)
        return await step()

    # Status, leases and recovery.

    async def _set(self, progress: Progress, status: Status, **fields: Any) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            login = await session.get(LoginRequest, progress.login_id)
            assert login is not None
            changed = login.status != status
            login.status = status
            login.sms_used = progress.sms_used
            login.updated_at = now
            for name, value in fields.items():
                setattr(login, name, value)
            if changed:
                session.add(
                    LoginEvent(
                        login_id=login.id, at=now, status=status, detail=login.reason
                    )
                )
        if changed:
            self.feed.publish(login.id, view(login))

    async def _finish_failed(self, progress: Progress, reason: str) -> None:
        await self._set(progress, Status.FAILED, reason=reason)
        LOGINS_FINISHED.labels(status=Status.FAILED).inc()

    async def _end_lease(
        self, login_id: str, status: Status, reason: str | None
    ) -> LoginRequest:
        async with self._db.transaction() as session:
            login = await session.get(LoginRequest, login_id)
            assert login is not None
            if login.status != Status.SUCCEEDED:
                return login
            now = self._clock.now()
            login.status = status
            login.reason = reason
            login.updated_at = now
            session.add(
                LoginEvent(login_id=login_id, at=now, status=status, detail=reason)
            )
        self._release_lane(login_id)
        self.feed.publish(login_id, view(login))
        LOGINS_FINISHED.labels(status=status).inc()
        return login

    def _release_lane(self, login_id: str) -> None:
        lane = self._held.pop(login_id, None)
        if lane is not None:
            self._lanes.release(lane, login_id)

    def _lease_held(self, login: LoginRequest) -> bool:
        return (
            login.status == Status.SUCCEEDED
            and login.lease_expires_at is not None
            and login.lease_expires_at > self._clock.now()
        )

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_leases()
            except Exception:
                logger.exception("sweeping leases failed")
            await asyncio.sleep(self._settings.lease_sweep_seconds)

    async def _recover(self) -> None:
        """Leases survive a restart; requests cut short start again from the queue."""
        async with self._db.session() as session:
            rows = list(
                await session.scalars(
                    select(LoginRequest)
                    .where(LoginRequest.status.in_([*IN_FLIGHT, Status.SUCCEEDED]))
                    .order_by(LoginRequest.created_at)
                )
            )
        for login in rows:
            if login.status == Status.SUCCEEDED and self._lease_held(login):
                lane = LaneKey(login.person_id or 0, login.region or "")
                await self._lanes.acquire(lane, login.id)
                self._held[login.id] = lane
            elif login.status == Status.SUCCEEDED:
                await self._end_lease(login.id, Status.EXPIRED, "the lease timed out")
            else:
                await self._set(Progress(login.id, login.sms_used), Status.QUEUED)
                self.submit(login.id)


def _check_identity(flow: Flow, tax_id: str, identity_code: str) -> None:
    """R7: only a confirmed relation logs in."""
    if not flow.identities:
        return
    for identity in flow.identities:
        if (
            identity.tax_id == tax_id
            and identity.identity_code == identity_code
            and identity.confirmed
        ):
            return
    raise LoginFailed(
        f"the bureau lists no confirmed identity for {tax_id}: confirm the "
        f"role ({identity_code}) at the bureau first (R7)"
    )


def _refusal(error: BureauError) -> str:
    return f"the bureau refused ({error.failure.value}): {error.message}"
