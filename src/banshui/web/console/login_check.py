"""测试登录: a real login request for a number's account, released once it succeeds.

The lease is given back at once: an operator's check must not hold the person's
lane (R4) for the ten minutes a business system's lease would last.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from sqlalchemy import select

from banshui.accounts.models import Account, AccountEnterprise, Enterprise
from banshui.audit.log import record
from banshui.core.errors import Conflict
from banshui.login.engine import LoginEngine
from banshui.login.requests import create_login
from banshui.login.status import FINAL, Status
from banshui.numbers.models import Number
from banshui.runtime import Runtime

logger = logging.getLogger(__name__)

NO_ACCOUNT = "这个号码还没有配置为电子税局账号，请先在「企业」页新增账号。"


class LoginChecks:
    """The watchers that release test logins; one per runtime."""

    def __init__(self, engine: LoginEngine) -> None:
        self._engine = engine
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, login_id: str, tenant_id: int, seconds: float) -> None:
        task = asyncio.create_task(self._run(login_id, tenant_id, seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, login_id: str, tenant_id: int, seconds: float) -> None:
        # Subscribed before the engine starts, so no status change is missed.
        async with self._engine.feed.subscribe(login_id) as changes:
            self._engine.submit(login_id)
            try:
                async with asyncio.timeout(seconds):
                    while True:
                        status = (await changes.get())["status"]
                        if status == Status.SUCCEEDED:
                            await self._engine.release(login_id, tenant_id)
                            return
                        if status in FINAL:
                            return
            except TimeoutError:
                return
            except Conflict:
                logger.warning("test login %s ended before its release", login_id)


def checks_of(runtime: Runtime) -> LoginChecks:
    made = runtime.extras.get("console.login_checks")
    if made is None:
        made = LoginChecks(cast(LoginEngine, runtime.extras["engine"]))
        runtime.extras["console.login_checks"] = made
    return cast(LoginChecks, made)


async def start_check(runtime: Runtime, number: Number, actor: str) -> str:
    """Ask for a login with the number's account; the request's id comes back."""
    async with runtime.db.session() as session:
        found = (
            await session.execute(
                select(Account, AccountEnterprise, Enterprise)
                .join(AccountEnterprise, AccountEnterprise.account_id == Account.id)
                .join(Enterprise, Enterprise.id == AccountEnterprise.enterprise_id)
                .where(Account.number_id == number.id)
                .order_by(AccountEnterprise.is_default.desc(), AccountEnterprise.id)
                .limit(1)
            )
        ).first()
    if found is None:
        raise Conflict(NO_ACCOUNT)

    account, service, enterprise = found
    seconds = runtime.settings.login_deadline_seconds
    login = await create_login(
        runtime.db,
        runtime.clock,
        tenant_id=account.tenant_id,
        tax_id=enterprise.tax_id,
        business=service.default_business,
        account_id=account.id,
        deadline_seconds=seconds,
    )
    async with runtime.db.transaction() as session:
        record(
            session,
            runtime.clock,
            actor=actor,
            action="login.test_started",
            subject=f"login:{login.id}",
            detail=f"number:{number.msisdn} account:{account.id}",
        )
    checks_of(runtime).start(login.id, account.tenant_id, seconds)
    return login.id
