"""The audit log as a caller may read it: their tenant's entries, numbers masked
for viewers.

Audit entries carry no tenant, so a tenant's entries are those about its
accounts, persons, numbers (from when each became the tenant's), login requests,
operators and the tenant itself, or made by its operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute

from banshui.accounts.models import Account, Enterprise, Person, Tenant
from banshui.accounts.tenants import seen_by
from banshui.audit.models import AuditEntry
from banshui.core.db import Database
from banshui.login.models import LoginRequest
from banshui.numbers.phones import mask
from banshui.operators.models import Operator
from banshui.web.console.guard import Caller

SHOWN = 200
NUMBER = "number:"  # an entry about a number has the subject number:<msisdn>
_MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")

ACTIONS = {
    "account.add": "新增账号",
    "account.serve": "账号服务企业",
    "account.change": "设置默认账号或业务",
    "account.stop_serving": "账号不再服务企业",
    "account.provider_replaced": "更换服务商凭据",
    "code.viewed": "查看验证码",
    "code.claimed": "领取验证码",
    "customer.add": "新增客户",
    "login.test_started": "测试登录",
    "number.bound": "绑定小号",
    "number.unbound": "解绑小号",
    "number.owner_set": "号码归属自然人",
    "number.owner_moved": "号码转到他人名下",
    "number.pin_set": "设置 PIN",
    "number.portal_refused": "税局拒绝添加号码",
    "number.service_end_set": "设置服务到期日",
    "operator.add": "新增用户",
    "operator.signed_in": "登录控制台",
    "operator.sign_in_refused": "登录控制台被拒",
    "operator.locked": "用户被锁定",
    "operator.unlocked": "解除锁定",
    "operator.role_changed": "修改角色",
    "operator.disabled": "停用用户",
    "operator.enabled": "启用用户",
    "operator.password_changed": "修改登录密码",
    "operator.password_change_refused": "修改密码被拒",
    "operator.password_reset": "重置登录密码",
    "enterprise.add": "新增企业",
    "number.added_at_bureau": "确认已在税局添加",
    "person.add": "新增自然人",
    "person.password_changed": "修改密码",
    "query.locked": "查询页锁定号码",
    "session.handed_out": "交出税局会话",
    "source.add": "新增短信网关",
    "tenant.add": "新增租户",
}


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    at: datetime
    actor: str
    action: str
    label: str
    subject: str
    detail: str
    client: str


async def entries(db: Database, caller: Caller, before: int | None) -> list[Line]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(SHOWN)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if caller.tenant_id is not None:
        query = query.where(_of_tenant(caller.tenant_id))
    async with db.session() as session:
        rows = list(await session.scalars(query))
    return [_line(row, caller.masked) for row in rows]


def _of_tenant(tenant_id: int) -> ColumnElement[bool]:
    subject = AuditEntry.subject
    return or_(
        subject.in_(_prefixed("account:", Account.id, Account.tenant_id == tenant_id)),
        subject.in_(_prefixed("person:", Person.id, Person.tenant_id == tenant_id)),
        subject.in_(
            _prefixed("enterprise:", Enterprise.id, Enterprise.tenant_id == tenant_id)
        ),
        # A number's entries from before it was the tenant's are not its.
        and_(
            subject.startswith(NUMBER),
            seen_by(tenant_id, func.substr(subject, len(NUMBER) + 1), AuditEntry.at),
        ),
        subject.in_(
            select(literal("login:") + LoginRequest.id).where(
                LoginRequest.tenant_id == tenant_id
            )
        ),
        subject.in_(
            select(literal("operator:") + Operator.name).where(
                Operator.tenant_id == tenant_id
            )
        ),
        AuditEntry.actor.in_(
            select(literal("console:") + Operator.name).where(
                Operator.tenant_id == tenant_id
            )
        ),
        subject.in_(select(Tenant.name).where(Tenant.id == tenant_id)),
    )


def _prefixed(
    prefix: str, column: InstrumentedAttribute[int], where: ColumnElement[bool]
) -> Select[Any]:
    return select(literal(prefix) + cast(column, String)).where(where)


def _line(row: AuditEntry, masked: bool) -> Line:
    def shown(text: str) -> str:
        return _MOBILE.sub(lambda found: mask(found.group()), text) if masked else text

    return Line(
        id=row.id,
        at=row.at,
        actor=shown(row.actor),
        action=row.action,
        label=ACTIONS.get(row.action, row.action),
        subject=shown(row.subject),
        detail=shown(row.detail or ""),
        client=row.client or "",
    )
