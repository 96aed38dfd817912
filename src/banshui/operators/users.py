"""Adding, listing and changing operators; every change is audited.

A tenant's admin changes the operators of their tenant only; the platform's
admin changes anyone's. No admin changes their own role or disables themselves,
so a tenant is never left without the admin who could undo it; nor do they reset
their own password, which is changed with the current one (password_change.py).
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.models import Tenant
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.operators.models import Operator
from banshui.operators.passwords import hash_password, valid_password
from banshui.operators.roles import Role
from banshui.operators.sessions import end_sessions

NAME_LENGTH = 64


@dataclass(frozen=True, slots=True)
class ChangedBy:
    """The admin making a change: who they are and their tenant (None: platform)."""

    operator_id: int
    tenant_id: int | None
    actor: str


# Whoever runs ``banshui user`` on the machine: the platform, and no operator
# (row ids start at 1).
ON_THE_MACHINE = ChangedBy(operator_id=0, tenant_id=None, actor="cli")


def valid_name(name: str, field: str = "name") -> str:
    """A sign-in name: 1–64 printable characters without spaces (王五, ops-1)."""
    name = unicodedata.normalize("NFC", name.strip())
    if not 1 <= len(name) <= NAME_LENGTH:
        raise InvalidInput(f"must be 1–{NAME_LENGTH} characters", field=field)
    if any(char.isspace() or not char.isprintable() for char in name):
        raise InvalidInput("must not hold spaces or control characters", field=field)
    return name


async def add_operator(
    db: Database,
    clock: Clock,
    *,
    name: str,
    password: str,
    role: Role,
    tenant_id: int | None,
    actor: str = "cli",
) -> Operator:
    """A new operator of the tenant (or of the platform when ``tenant_id`` is None)."""
    name = valid_name(name)
    password_hash = await asyncio.to_thread(hash_password, valid_password(password))

    operator = Operator(
        name=name,
        password_hash=password_hash,
        role=role.value,
        tenant_id=tenant_id,
        failures=0,
        disabled=False,
        created_at=clock.now(),
    )
    async with db.transaction() as session:
        if tenant_id is not None and await session.get(Tenant, tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id}", field="tenant")
        if await session.scalar(select(Operator.id).where(Operator.name == name)):
            raise Conflict(f"an operator named {name!r} exists already", field="name")
        session.add(operator)
        record(
            session,
            clock,
            actor=actor,
            action="operator.add",
            subject=f"operator:{name}",
            detail=f"role:{role.value} tenant:{tenant_id or 'platform'}",
        )
    return operator


async def list_operators(db: Database, tenant_id: int | None) -> list[Operator]:
    """The tenant's operators; with ``tenant_id`` None, every operator."""
    query = select(Operator).order_by(Operator.name)
    if tenant_id is not None:
        query = query.where(Operator.tenant_id == tenant_id)
    async with db.session() as session:
        return list(await session.scalars(query))


async def unlock(
    db: Database, clock: Clock, operator_id: int, tenant_id: int | None, actor: str
) -> Operator:
    """Clear the lockout; an operator of another tenant is as unknown as none."""
    async with db.transaction() as session:
        operator = await _in_scope(session, operator_id, tenant_id)
        operator.failures = 0
        operator.locked_until = None
        record(
            session,
            clock,
            actor=actor,
            action="operator.unlocked",
            subject=f"operator:{operator.name}",
        )
    return operator


async def set_role(
    db: Database, clock: Clock, operator_id: int, role: Role, by: ChangedBy
) -> Operator:
    """A new role, in force from the operator's next request."""
    _not_oneself(operator_id, by, "role")
    async with db.transaction() as session:
        operator = await _in_scope(session, operator_id, by.tenant_id)
        before, operator.role = operator.role, role.value
        record(
            session,
            clock,
            actor=by.actor,
            action="operator.role_changed",
            subject=f"operator:{operator.name}",
            detail=f"role:{before} -> {role.value}",
        )
    return operator


async def set_disabled(
    db: Database, clock: Clock, operator_id: int, disabled: bool, by: ChangedBy
) -> Operator:
    """Disable (every session of theirs ends now) or enable an operator."""
    _not_oneself(operator_id, by, "disabled")
    async with db.transaction() as session:
        operator = await _in_scope(session, operator_id, by.tenant_id)
        operator.disabled = disabled
        if disabled:
            await end_sessions(session, operator.id)
        record(
            session,
            clock,
            actor=by.actor,
            action="operator.disabled" if disabled else "operator.enabled",
            subject=f"operator:{operator.name}",
        )
    return operator


async def reset_password(
    db: Database, clock: Clock, operator_id: int, password: str, by: ChangedBy
) -> Operator:
    """An admin sets another operator's password; every session of theirs ends.

    The lockout goes too: it held against guesses at the password now replaced.
    """
    if operator_id == by.operator_id:
        raise InvalidInput(
            "an admin changes their own password with the current one",
            field="password",
        )
    hashed = await asyncio.to_thread(hash_password, valid_password(password))

    async with db.transaction() as session:
        operator = await _in_scope(session, operator_id, by.tenant_id)
        operator.password_hash = hashed
        operator.failures = 0
        operator.locked_until = None
        await end_sessions(session, operator.id)
        record(
            session,
            clock,
            actor=by.actor,
            action="operator.password_reset",
            subject=f"operator:{operator.name}",
        )
    return operator


def _not_oneself(operator_id: int, by: ChangedBy, field: str) -> None:
    if operator_id == by.operator_id:
        raise InvalidInput(
            "an admin cannot change their own role or disable themselves", field=field
        )


async def _in_scope(
    session: AsyncSession, operator_id: int, tenant_id: int | None
) -> Operator:
    """The operator, if ``tenant_id`` (None: the platform) may change them."""
    # Row ids are 32-bit on PostgreSQL: a larger one names no operator.
    in_range = 1 <= operator_id <= 2**31 - 1
    operator = await session.get(Operator, operator_id) if in_range else None
    if operator is None or (tenant_id is not None and operator.tenant_id != tenant_id):
        raise NotFound(f"no operator {operator_id}")
    return operator


async def operator_named(db: Database, name: str) -> Operator:
    name = unicodedata.normalize("NFC", name.strip())
    async with db.session() as session:
        operator = await session.scalar(select(Operator).where(Operator.name == name))
    if operator is None:
        raise NotFound(f"no operator named {name!r}", field="name")
    return operator


async def tenant_named(db: Database, name: str) -> Tenant:
    async with db.session() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.name == name.strip()))
    if tenant is None:
        raise NotFound(f"no tenant named {name.strip()!r}", field="tenant")
    return tenant


async def tenant_names(db: Database) -> dict[int, str]:
    async with db.session() as session:
        rows = await session.execute(select(Tenant.id, Tenant.name))
        return dict(rows.all())
