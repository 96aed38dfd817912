"""The engine: turns a login request into a leased bureau session (DESIGN §5)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from banshui.accounts.models import Enterprise, Person
from banshui.audit.log import record
from banshui.core.bells import Bells
from banshui.core.clock import Clock, as_utc
from banshui.core.db import Database
from banshui.core.errors import Conflict
from banshui.core.settings import Settings
from banshui.core.vault import Vault
from banshui.drivers.base import BureauDriver, BureauError, Failure, Probe
from banshui.events import Events, NoEvents
from banshui.login.choice import NoAccount, Plan, choose_account
from banshui.login.codes import CodeSources, LocalCodes
from banshui.login.dispatch import Dispatcher, LostLogin
from banshui.login.feed import LoginFeed
from banshui.login.fresh import FreshLogin, Parts
from banshui.login.keepalive import idle_sessions
from banshui.login.lanes import LaneKey, Lanes, NumberLocks
from banshui.login.models import BureauSession, LoginEvent, LoginRequest
from banshui.login.natural_person import lane_person_id, lane_person_of
from banshui.login.people import TYPED_TOPIC, put_typed_code
from banshui.login.progress import (
    LoginFailed,
    Outcome,
    Progress,
    Sleep,
    kept_failing,
    publish,
    retrying,
)
from banshui.login.requests import login_in, view
from banshui.login.resting import RestingNumbers
from banshui.login.sessions import SessionStore
from banshui.login.status import FINAL, WITHDRAWABLE, Status, Withdrawn
from banshui.metrics import LOGINS_FINISHED

logger = logging.getLogger(__name__)

# The keep-alive task looks for idle sessions at least this often.
KEEPALIVE_LOOK_SECONDS = 30.0
# A read or write a request cannot end without is tried again after these
# pauses while the database does not answer, then every last one.
STORE_RETRY_DELAYS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
WITHDRAWN = "withdrawn by its caller before it started: no SMS was asked for"

_T = TypeVar("_T")

__all__ = ["LoginEngine", "LoginFailed"]


class LoginEngine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        vault: Vault,
        inbox: LocalCodes,
        driver: BureauDriver,
        settings: Settings,
        sleep: Sleep = asyncio.sleep,
        events: Events | None = None,
        bells: Bells | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._driver = driver
        self._settings = settings
        self._sleep = sleep
        self._events: Events = events or NoEvents()
        self._bells = bells if bells is not None else Bells()
        self._lanes = Lanes(db, self._bells)
        self._sessions = SessionStore(db, vault, clock)
        self._sources = CodeSources(db, vault, clock, inbox)
        self._vault = vault
        self._fresh = FreshLogin(
            Parts(
                db=db,
                clock=clock,
                vault=vault,
                driver=driver,
                sources=self._sources,
                sessions=self._sessions,
                numbers=NumberLocks(),
                resting=RestingNumbers(db, clock, _rest_seconds(settings)),
                events=self._events,
                settings=settings,
                sleep=sleep,
                report=self._set,
                bells=self._bells,
                warned=set(),
            )
        )
        self._background: list[asyncio.Task[None]] = []
        self.feed = LoginFeed(self._bells)
        self._dispatcher = Dispatcher(
            db,
            self._bells,
            clock,
            serve=self._run,
            give_up=self._sources.give_up,
            changed=lambda login: self.feed.publish(login.id, view(login)),
            concurrency=settings.engine_concurrency,
        )

    async def start(self) -> None:
        """Take up what stopped engines left, serve the queue, watch leases."""
        await self._dispatcher.start()
        self._background = [
            asyncio.create_task(self._sweep_forever()),
            asyncio.create_task(self._keep_alive_forever()),
        ]

    async def stop(self) -> None:
        tasks = self._background
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._dispatcher.stop()
        await self._sources.close()

    def submit(self, login_id: str) -> None:
        """The request is in the database: the engine of any process claims it."""
        self._dispatcher.ring()

    async def release(self, login_id: str, tenant_id: int) -> LoginRequest:
        """End the lease; a request not started yet is withdrawn instead.

        A caller that no longer needs the session it asked for must be able to
        say so: else the request would take its lane in turn and hold it for a
        whole lease. Once the engine has begun (asked for a code, say) the
        request runs on, and is released once it succeeds.
        """
        now = self._clock.now()

        def work(session: Session) -> tuple[LoginRequest, bool]:
            # Locked: the engine, a sweep and other releases may meet here.
            login = login_in(session, login_id, tenant_id, for_update=True)
            if login.status in WITHDRAWABLE and not login.holds_lane:
                # Not started: its engine, if waiting for the lane, stops.
                _end(session, login, Status.RELEASED, WITHDRAWN, now)
                return login, True
            if login.status == Status.RELEASED:
                return login, False  # released already: nothing more to end
            if login.status != Status.SUCCEEDED:
                raise Conflict(
                    f"the login holds no lease (it is {login.status}): a login "
                    "is withdrawn only before it takes its lane"
                )
            _end(session, login, Status.RELEASED, None, now)
            return login, True

        login, ended = await self._db.run_transaction(work)
        if ended:
            self._ended(login)
        return login

    async def type_code(
        self, login_id: str, tenant_id: int, code: str, actor: str
    ) -> LoginRequest:
        """A code a person typed, for a login waiting for it (DESIGN §5.10)."""
        login = await put_typed_code(
            self._db,
            self._vault,
            self._clock,
            login_id=login_id,
            tenant_id=tenant_id,
            code=code,
            actor=actor,
        )
        # The login waiting for it may be served by another process.
        self._bells.ring(TYPED_TOPIC, login_id)
        return login

    async def session_for(
        self, login_id: str, tenant_id: int, actor: str
    ) -> dict[str, Any]:
        """The session hand-out: only to the tenant that asked, only under lease."""

        def work(session: Session) -> tuple[LoginRequest, BureauSession, Enterprise]:
            login = login_in(session, login_id, tenant_id)
            if not self._lease_held(login) or login.session_id is None:
                raise Conflict(f"the login holds no lease (it is {login.status})")
            row = session.get(BureauSession, login.session_id)
            enterprise = session.get(Enterprise, login.enterprise_id)
            assert row is not None and enterprise is not None
            record(
                session,
                self._clock,
                actor=actor,
                action="session.handed_out",
                subject=f"login:{login_id}",
                detail=f"session:{row.id}",
            )
            return login, row, enterprise

        # One trip: the check of the lease and the audited hand-out together.
        login, row, enterprise = await self._db.run_transaction(work)
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

    async def probe_idle_sessions(self) -> list[int]:
        """Keep-alive (§5.8): probe idle sessions nobody holds; the dropped ones."""
        seconds = self._settings.keepalive_seconds
        dropped = []
        for row in await idle_sessions(self._db, self._clock, seconds):
            # A lane in use (a login at work, or a lease) is not disturbed.
            person = await lane_person_id(self._db, row.person_id)
            if await self._lanes.busy(LaneKey(person, row.region)):
                continue
            if not await self._sessions.take_for_probe(row):
                continue  # another engine probes it
            try:
                probe = await self._probe(row)
            except BureauError as error:
                logger.warning(
                    "keep-alive probe of session %s failed: %s", row.id, error
                )
                continue
            if probe.alive:
                await self._sessions.touched(row.id)
            else:
                await self._dropped(row, "keep-alive")
                dropped.append(row.id)
        return dropped

    async def _probe(self, row: BureauSession) -> Probe:
        handle = self._sessions.handle(row)
        return await retrying(self._sleep, lambda: self._driver.probe(handle))

    # The run of one request.

    async def _run(self, login_id: str) -> None:
        """Serve one request; whatever it meets, it ends failed or succeeded."""
        progress = await self._until_stored(
            login_id, "reading the request", lambda: self._progress(login_id)
        )
        try:
            await self._serve(progress)
        except (asyncio.CancelledError, LostLogin, Withdrawn):
            raise
        except Exception as error:
            reason = _failure_reason(login_id, error)
            await self._until_stored(
                login_id,
                "writing its failure",
                lambda: self._finish_failed(progress, reason),
            )

    async def _until_stored(
        self, login_id: str, doing: str, step: Callable[[], Awaitable[_T]]
    ) -> _T:
        """A step the request cannot end without, tried until the database answers.

        A busy SQLite (``database is locked``) or a lost PostgreSQL connection
        passes; giving up would leave the request in flight for good.
        """
        pauses = iter(STORE_RETRY_DELAYS)
        told = False
        while True:
            try:
                return await step()
            except OperationalError as error:
                if not told:
                    logger.warning(
                        "login %s: %s failed (%s); trying again",
                        login_id,
                        doing,
                        _database_words(error),
                    )
                    told = True
            await self._sleep(next(pauses, STORE_RETRY_DELAYS[-1]))

    async def _progress(self, login_id: str) -> Progress:
        login = await self._db.run_read(
            lambda session: session.get(LoginRequest, login_id)
        )
        assert login is not None
        deadline = login.deadline or login.created_at + timedelta(
            seconds=self._settings.login_deadline_seconds
        )
        return Progress(
            login_id=login_id,
            tenant_id=login.tenant_id,
            deadline=as_utc(deadline),
            sms_used=login.sms_used,
            status=Status(login.status),
        )

    async def _serve(self, progress: Progress) -> None:
        plan, lane_person = await self._plan(progress.login_id)
        region = plan.enterprise.region
        # The lane is the natural person's, whichever tenant enrolled them (R4);
        # the request records that person, so every process keys it alike.
        lane = LaneKey(lane_person, region)
        own = LaneKey(plan.person.id, region)  # this row's sessions
        await self._set(
            progress,
            Status.QUEUED,
            account_id=plan.account.id,
            person_id=lane.person_id,
            region=lane.region,
        )
        await self._take_lane(progress, plan, lane)

        outcome = await self._reuse(progress, plan, own)
        if outcome is None:
            outcome = await self._fresh.run(progress, plan, own)

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

    async def _plan(self, login_id: str) -> tuple[Plan, int]:
        """The request's plan, and the person row that keys its lane."""

        def read(session: Session) -> tuple[Plan, int]:
            login = session.get(LoginRequest, login_id)
            assert login is not None
            enterprise = session.get(Enterprise, login.enterprise_id)
            assert enterprise is not None
            plan = choose_account(
                session, enterprise, login.business, login.requested_account_id
            )
            return plan, lane_person_of(session, plan.person.id)

        try:
            return await self._db.run_read(read)
        except NoAccount as error:
            raise LoginFailed(str(error)) from None

    async def _take_lane(self, progress: Progress, plan: Plan, lane: LaneKey) -> None:
        if await self._lanes.take(lane, progress.login_id):
            return
        await self._set(progress, Status.WAITING_LANE)
        seconds = max(progress.remaining(self._clock), 0.0)
        if not await self._lanes.acquire(lane, progress.login_id, seconds):
            raise LoginFailed(
                f"the deadline {progress.deadline_text()} passed while waiting for "
                f"the lane of {plan.person.name} in region {lane.region} (R4)"
            )

    async def _reuse(
        self, progress: Progress, plan: Plan, lane: LaneKey
    ) -> Outcome | None:
        """A live session of the lane: the same enterprise, or a switch (R5)."""
        live = await self._sessions.live(lane)
        if live is None:
            return None

        row, handle = live
        try:
            probe = await retrying(self._sleep, lambda: self._driver.probe(handle))
        except BureauError as error:
            failed = kept_failing(error, "the check of the live session")
            raise LoginFailed(failed) from None
        if not probe.alive:
            await self._dropped(row, "reuse")
            return None

        if row.enterprise_id == plan.enterprise.id:
            await self._sessions.touched(row.id)
            return Outcome(session_id=row.id, number=row.number, switched=False)

        tax_id = plan.enterprise.tax_id
        try:
            await retrying(self._sleep, lambda: self._driver.switch(handle, tax_id))
        except BureauError as error:
            if error.failure is Failure.SESSION_ENDED:
                await self._dropped(row, "reuse")
                return None
            raise LoginFailed(kept_failing(error, "the switch of enterprise")) from None
        await self._sessions.switched(row.id, plan.enterprise.id, plan.identity_code)
        return Outcome(session_id=row.id, number=row.number, switched=True)

    async def _dropped(self, row: BureauSession, found_by: str) -> None:
        """The bureau ended a kept session: mark it, and say so (session.dropped)."""
        await self._sessions.dropped(row.id)
        async with self._db.session() as session:
            person = await session.get(Person, row.person_id)
            enterprise = await session.get(Enterprise, row.enterprise_id)
        await publish(
            self._events,
            "session.dropped",
            {
                "tenant_id": person.tenant_id if person else None,
                "session_id": row.id,
                "person_id": row.person_id,
                "person": person.name if person else None,
                "region": row.region,
                "number": row.number,
                "tax_id": enterprise.tax_id if enterprise else None,
                "found_by": found_by,
            },
        )

    # Status, leases and recovery.

    async def _set(self, progress: Progress, status: Status, **fields: Any) -> None:
        now = self._clock.now()
        if status is not Status.WAITING_PERSON:
            progress.person_step = None
        worker_id = self._dispatcher.worker_id

        def work(session: Session) -> tuple[LoginRequest, bool]:
            login = session.get(LoginRequest, progress.login_id, with_for_update=True)
            assert login is not None
            if login.status in FINAL:
                # Withdrawn by its caller: nothing more is written, or done.
                raise Withdrawn(progress.login_id)
            if login.worker_id != worker_id:
                # Taken up by another engine: this run must not write over it.
                raise LostLogin(progress.login_id)
            if login.status == Status.WAITING_PERSON != status:
                # The person did their part: what they were asked is done.
                login.reason, login.waiting_for = None, None
            before = (login.status, login.reason)
            login.status = status
            login.sms_used = progress.sms_used
            login.updated_at = now
            for name, value in fields.items():
                setattr(login, name, value)
            if status in FINAL:
                login.holds_lane = False
            changed = (login.status, login.reason) != before
            if changed:
                session.add(
                    LoginEvent(
                        login_id=login.id, at=now, status=status, detail=login.reason
                    )
                )
            return login, changed

        # One trip to the database: every step of every login writes here, and
        # on SQLite a write holds the one write lock for as long as it takes.
        login, changed = await self._db.run_transaction(work)
        progress.status = status
        if status in FINAL:
            self._lane_freed(login)  # held, or waited for: the next looks
        if changed:
            self.feed.publish(login.id, view(login))

    async def _finish_failed(self, progress: Progress, reason: str) -> None:
        await self._set(
            progress,
            Status.FAILED,
            reason=reason,
            waiting_for=None,
            typed_code_sealed=None,
        )
        LOGINS_FINISHED.labels(status=Status.FAILED).inc()

    async def _end_lease(
        self, login_id: str, status: Status, reason: str | None
    ) -> LoginRequest:
        now = self._clock.now()

        def work(session: Session) -> tuple[LoginRequest, bool]:
            # Locked: a release and the sweeps of several processes may meet here.
            login = session.get(LoginRequest, login_id, with_for_update=True)
            assert login is not None
            if login.status != Status.SUCCEEDED:
                return login, False
            _end(session, login, status, reason, now)
            return login, True

        login, ended = await self._db.run_transaction(work)
        if ended:
            self._ended(login)
        return login

    def _ended(self, login: LoginRequest) -> None:
        """After the commit of a login's end: the lane's next looks, followers hear.

        A withdrawn login's engine, if it waits for the lane, wakes and stops.
        """
        self._lane_freed(login)
        self.feed.publish(login.id, view(login))
        LOGINS_FINISHED.labels(status=login.status).inc()

    def _lane_freed(self, login: LoginRequest) -> None:
        if login.person_id is not None and login.region is not None:
            self._lanes.freed(LaneKey(login.person_id, login.region))

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

    async def _keep_alive_forever(self) -> None:
        # Idleness is read from the injected clock; this only sets how often
        # the engine looks.
        pause = min(self._settings.keepalive_seconds, KEEPALIVE_LOOK_SECONDS)
        while True:
            await asyncio.sleep(pause)
            try:
                await self.probe_idle_sessions()
            except Exception:
                logger.exception("keep-alive failed")


def _end(
    session: Session,
    login: LoginRequest,
    status: Status,
    reason: str | None,
    now: datetime,
) -> None:
    """A lease ended, or a request withdrawn: final, and the lane let go."""
    login.status, login.reason = status, reason
    login.updated_at = now
    login.holds_lane = False
    session.add(LoginEvent(login_id=login.id, at=now, status=status, detail=reason))


def _failure_reason(login_id: str, error: Exception) -> str:
    """The reason a request failed with, naming the cause (DESIGN §5.9)."""
    if isinstance(error, LoginFailed):
        return str(error)
    if isinstance(error, BureauError):
        # Every step names its failure; this is the net under them.
        return kept_failing(error, "a login step")
    if isinstance(error, OperationalError):
        logger.warning("login %s stopped: %s", login_id, _database_words(error))
        return (
            f"banshui's database did not answer during the login "
            f"({_database_words(error)}): ask for the login again"
        )
    logger.error("login %s failed unexpectedly", login_id, exc_info=error)
    return f"internal error: {type(error).__name__}"


def _database_words(error: OperationalError) -> str:
    # The driver's own sentence (``database is locked``), without the statement.
    return str(error.orig).strip() or type(error.orig).__name__


def _rest_seconds(settings: Settings) -> float:
    """A number rests for a code's validity, and the clock skew allowed."""
    if settings.code_valid_seconds <= 0:
        return 0.0
    return settings.code_valid_seconds + settings.code_skew_seconds
