"""Login requests as the console lists them, each with its timeline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from banshui.accounts.identity import BUSINESSES
from banshui.accounts.models import Enterprise
from banshui.core.db import Database
from banshui.core.errors import NotFound
from banshui.login.models import LoginEvent, LoginRequest
from banshui.login.requests import events_of
from banshui.login.status import FINAL, Status
from banshui.web.console.guard import Caller

SHOWN = 100
STATUSES: dict[str, str] = {
    Status.QUEUED: "排队中",
    Status.WAITING_LANE: "等待通道",
    Status.REQUESTING_CODE: "请求验证码",
    Status.WAITING_CODE: "等待验证码",
    Status.WAITING_PERSON: "等待人工处理",
    Status.SUBMITTING: "提交中",
    Status.SUCCEEDED: "登录成功",
    Status.RELEASED: "已释放",
    Status.EXPIRED: "租约到期",
    Status.FAILED: "失败",
}
# How a status is coloured: good, bad or under way.
TONES: dict[str, str] = {
    Status.SUCCEEDED: "good",
    Status.RELEASED: "done",
    Status.EXPIRED: "done",
    Status.FAILED: "bad",
    Status.WAITING_PERSON: "warn",
}


@dataclass(frozen=True, slots=True)
class Shown:
    login: LoginRequest
    enterprise: str
    events: list[LoginEvent]

    @property
    def final(self) -> bool:
        return self.login.status in FINAL

    @property
    def reached_session(self) -> bool:
        return any(event.status == Status.SUCCEEDED for event in self.events)

    @property
    def reused(self) -> bool:
        """It succeeded in a session already live: no SMS, no switch, so a test
        login of this kind says nothing of the number's SMS reaching banshui."""
        fresh = any(event.status == Status.REQUESTING_CODE for event in self.events)
        return self.reached_session and not fresh and not self.login.switched


def status_label(status: str) -> str:
    return STATUSES.get(status, status)


def tone(status: str) -> str:
    return TONES.get(status, "busy")


def business_label(business: str) -> str:
    return BUSINESSES.get(business, business)


async def recent(db: Database, caller: Caller) -> list[tuple[LoginRequest, str]]:
    query = (
        select(LoginRequest, Enterprise.name)
        .join(Enterprise, Enterprise.id == LoginRequest.enterprise_id)
        .order_by(LoginRequest.created_at.desc())
        .limit(SHOWN)
    )
    if caller.tenant_id is not None:
        query = query.where(LoginRequest.tenant_id == caller.tenant_id)
    async with db.session() as session:
        return list(await session.execute(query))


async def one(db: Database, caller: Caller, login_id: str) -> Shown:
    async with db.session() as session:
        login = await session.get(LoginRequest, login_id[:32])
        if login is None or not caller.sees(login.tenant_id):
            raise NotFound("没有这个登录请求。")
        enterprise = await session.get(Enterprise, login.enterprise_id)
    events = await events_of(db, login.id)
    return Shown(login, enterprise.name if enterprise else "", events)
