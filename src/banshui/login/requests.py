"""Creating login requests and showing them as the API's login object."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banshui.accounts.identity import validate_business
from banshui.accounts.models import Account, Enterprise
from banshui.accounts.uscc import validate_tax_id
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import InvalidInput, NotFound
from banshui.login.models import LoginEvent, LoginRequest
from banshui.login.status import Status


async def create_login(
    db: Database,
    clock: Clock,
    *,
    tenant_id: int,
    tax_id: str,
    business: str,
    account_id: int | None,
    deadline_seconds: float,
) -> LoginRequest:
    """A queued request; refused whole (nothing written) when a field is wrong."""
    compact = validate_tax_id(tax_id)
    validate_business(business)
    now = clock.now()

    def work(session: Session) -> LoginRequest:
        enterprise = session.scalar(
            select(Enterprise).where(
                Enterprise.tenant_id == tenant_id, Enterprise.tax_id == compact
            )
        )
        if enterprise is None:
            raise InvalidInput(
                f"{compact} is not an enterprise of this tenant", field="tax_id"
            )
        if account_id is not None:
            account = session.get(Account, account_id)
            if account is None or account.tenant_id != tenant_id:
                raise InvalidInput(
                    f"no account {account_id} in this tenant", field="account_id"
                )

        login = LoginRequest(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            enterprise_id=enterprise.id,
            tax_id=compact,
            business=business,
            requested_account_id=account_id,
            status=Status.QUEUED,
            deadline=now + timedelta(seconds=deadline_seconds),
            sms_used=0,
            switched=False,
            created_at=now,
            updated_at=now,
        )
        session.add(login)
        session.flush()  # the event refers to it; no relationship orders them
        session.add(LoginEvent(login_id=login.id, at=now, status=Status.QUEUED))
        return login

    return await db.run_transaction(work)


async def get_login(db: Database, login_id: str, tenant_id: int | None) -> LoginRequest:
    """A request by id; another tenant's is as unknown as a missing one."""
    return await db.run_read(lambda session: login_in(session, login_id, tenant_id))


def login_in(
    session: Session, login_id: str, tenant_id: int | None, for_update: bool = False
) -> LoginRequest:
    """``get_login``'s look, in a transaction that goes on with the request."""
    login = session.get(LoginRequest, login_id, with_for_update=for_update)
    if login is None or (tenant_id is not None and login.tenant_id != tenant_id):
        raise NotFound(f"no login request {login_id}")
    return login


async def events_of(db: Database, login_id: str) -> list[LoginEvent]:
    async with db.session() as session:
        rows = await session.scalars(
            select(LoginEvent)
            .where(LoginEvent.login_id == login_id)
            .order_by(LoginEvent.id)
        )
        return list(rows)


def view(login: LoginRequest) -> dict[str, Any]:
    """The login object of the API (DESIGN §4).

    ``lease_expires_at`` is when the lease ends while it is held, and when it ran
    out for an expired login; a released lease ended at ``updated_at``, so the
    time it would have run to is not shown.
    """
    lease = None if login.status == Status.RELEASED else login.lease_expires_at
    return {
        "id": login.id,
        "status": login.status,
        "reason": login.reason,
        "waiting_for": login.waiting_for,
        "deadline": _iso(login.deadline),
        "tax_id": login.tax_id,
        "business": login.business,
        "account_id": login.account_id,
        "number": login.number,
        "sms_used": login.sms_used,
        "switched": login.switched,
        "lease_expires_at": _iso(lease),
        "created_at": _iso(login.created_at),
        "updated_at": _iso(login.updated_at),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
