"""Tenants and their API keys (shown once, stored as a SHA-256 hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from banshui.accounts.models import Enterprise, Person, PersonNumber, Tenant
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.numbers.models import Number
from banshui.sms.models import InboundSms

KEY_PREFIX = "bsk_"
# Row ids are 32-bit on PostgreSQL: a larger number names no tenant.
_LARGEST_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class NewTenant:
    tenant: Tenant
    api_key: str


@dataclass(frozen=True, slots=True)
class ListedTenant:
    """A tenant as ``banshui tenant list`` shows it: never its key, nor its hash."""

    id: int
    name: str
    created_at: datetime
    enterprises: int


def hash_key(api_key: str) -> str:
    # The key has 256 bits of entropy, so a plain hash is enough to store it.
    return hashlib.sha256(api_key.encode()).hexdigest()


async def add_tenant(
    db: Database, clock: Clock, name: str, actor: str = "cli"
) -> NewTenant:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("must be 1–200 characters", field="name")

    api_key = _new_key()
    tenant = Tenant(name=name, api_key_hash=hash_key(api_key), created_at=clock.now())
    async with db.transaction() as session:
        if await session.scalar(select(Tenant.id).where(Tenant.name == name)):
            raise Conflict(f"a tenant named {name!r} exists already", field="name")
        session.add(tenant)
        record(session, clock, actor=actor, action="tenant.add", subject=name)
    return NewTenant(tenant=tenant, api_key=api_key)


async def list_tenants(db: Database) -> list[ListedTenant]:
    """Every tenant, oldest first, with how many enterprises it has."""
    enterprises = (
        select(func.count(Enterprise.id))
        .where(Enterprise.tenant_id == Tenant.id)
        .scalar_subquery()
    )
    query = select(Tenant.id, Tenant.name, Tenant.created_at, enterprises)
    async with db.session() as session:
        rows = (await session.execute(query.order_by(Tenant.id))).all()
    return [ListedTenant(*row) for row in rows]


async def rotate_key(
    db: Database, clock: Clock, name_or_id: str, actor: str = "cli"
) -> NewTenant:
    """A new API key for the tenant; the old one is refused from the commit on."""
    api_key = _new_key()
    async with db.transaction() as session:
        tenant = await _tenant_called(session, name_or_id)
        tenant.api_key_hash = hash_key(api_key)
        record(
            session,
            clock,
            actor=actor,
            action="tenant.key_rotated",
            subject=tenant.name,
        )
    return NewTenant(tenant=tenant, api_key=api_key)


async def tenant_id_called(db: Database, name_or_id: str) -> int:
    """The id of the tenant with that name, else with that id (``NotFound``)."""
    async with db.session() as session:
        return (await _tenant_called(session, name_or_id, lock=False)).id


async def _tenant_called(
    session: AsyncSession, name_or_id: str, lock: bool = True
) -> Tenant:
    """By its name; else, for a number, by its id (a name made of digits wins)."""
    wanted = name_or_id.strip()
    by_name = select(Tenant).where(Tenant.name == wanted)
    tenant = await session.scalar(by_name.with_for_update() if lock else by_name)
    number = wanted.isascii() and wanted.isdecimal()
    if tenant is None and number and int(wanted) <= _LARGEST_ID:
        tenant = await session.get(Tenant, int(wanted), with_for_update=lock)
    if tenant is None:
        also = " nor with that id" if number else ""
        raise NotFound(f"no tenant named {wanted!r}{also}", field="tenant")
    return tenant


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def key_still_held(db: Database, tenant_id: int, key_hash: str) -> bool:
    """Whether the tenant's API key is still the one with that hash."""
    held = select(Tenant.api_key_hash).where(Tenant.id == tenant_id)
    return await db.run_read(lambda session: session.scalar(held)) == key_hash


def tenant_of_key(session: Session, api_key: str) -> Tenant | None:
    """The key's tenant; looked up by hash, so timing says nothing of the key."""
    by_hash = select(Tenant).where(Tenant.api_key_hash == hash_key(api_key))
    return session.scalar(by_hash)


class TenantUnclear(Conflict):
    """Several tenants have the enterprise, and none holds the sub-number."""


class HeldInAnotherTenant(Conflict):
    """A person of a tenant without the enterprise holds the sub-number (R1)."""


class BoundForAnotherEnterprise(Conflict):
    """The sub-number is bound for a 税号 the tenant has no enterprise with."""


def number_ids_of(tenant_id: int) -> Select[int]:
    """Ids of the numbers a tenant may see: those its persons hold at the bureau
    (R1), and the sub-numbers bound for it (the tenant the binding recorded).

    A tax id alone says nothing of a tenant: several may have an enterprise with
    it, and any tenant may add one with any valid tax id.
    """
    held = (
        select(PersonNumber.number_id)
        .join(Person, Person.id == PersonNumber.person_id)
        .where(Person.tenant_id == tenant_id)
    )
    bound = select(Number.id).where(Number.tenant_id == tenant_id)
    return select(Number.id).where(or_(Number.id.in_(held), Number.id.in_(bound)))


def numbers_of(tenant_id: int) -> Select[str]:
    """The numbers (as typed) a tenant may see; see ``number_ids_of``."""
    return select(Number.msisdn).where(Number.id.in_(number_ids_of(tenant_id)))


def seen_by(
    tenant_id: int,
    number: SQLColumnExpression[str | None],
    at: SQLColumnExpression[datetime],
) -> ColumnElement[bool]:
    """Whether what reached ``number`` at ``at`` is the tenant's to see: it came
    while the number was the tenant's, held by one of its persons (from when
    it came to them) or bound for it (from the binding; a binding made before
    banshui kept that, from ever). Else a tenant that is given a number, or
    has it bound for it, would read every SMS and code it received before.
    """
    held_number, holding = aliased(Number), aliased(PersonNumber)
    holder = aliased(Person)
    held = (
        select(holding.id)
        .join(held_number, held_number.id == holding.number_id)
        .join(holder, holder.id == holding.person_id)
        .where(
            holder.tenant_id == tenant_id,
            held_number.msisdn == number,
            holding.added_at <= at,
        )
    )
    bound_number = aliased(Number)
    bound = select(bound_number.id).where(
        bound_number.tenant_id == tenant_id,
        bound_number.msisdn == number,
        or_(bound_number.bound_since.is_(None), bound_number.bound_since <= at),
    )
    return or_(held.exists(), bound.exists())


def sms_seen_by(tenant_id: int) -> ColumnElement[bool]:
    """Whether an inbound SMS is the tenant's to see; see ``seen_by``."""
    return seen_by(tenant_id, InboundSms.number, InboundSms.received_at)


async def tenant_to_bind(
    db: Database, tax_id: str, msisdn: str, chosen: int | None = None
) -> int | None:
    """The tenant a binding of the sub-number for ``tax_id`` is for.

    The tenants with an enterprise of that tax id are the candidates; any
    tenant may add any tax id, so holding the number decides nothing among
    several (a tenant could take an unbound number first). The operator's
    ``chosen`` tenant, if it is a candidate; else the one the number is bound
    for already with that tax id; else the only candidate. None when no tenant
    has the enterprise yet: the binding is then for no tenant, and is bound
    again once one has it. ``TenantUnclear`` when several are left, or the
    chosen one has no such enterprise; ``HeldInAnotherTenant`` when a person
    of another tenant holds the number (the binding would show that person's
    SMS to others).
    """

    async with db.session() as session:
        candidates = set(
            await session.scalars(
                select(Enterprise.tenant_id).where(Enterprise.tax_id == tax_id)
            )
        )
        holder = await session.scalar(
            select(Person.tenant_id)
            .join(PersonNumber, PersonNumber.person_id == Person.id)
            .join(Number, Number.id == PersonNumber.number_id)
            .where(Number.msisdn == msisdn)
        )
        by_msisdn = select(Number.tax_id, Number.tenant_id).where(
            Number.msisdn == msisdn
        )
        bound = (await session.execute(by_msisdn)).first()

    if chosen is not None and chosen not in candidates:
        raise TenantUnclear(
            f"the tenant chosen has no enterprise {tax_id}", field="tenant"
        )
    if not candidates:
        return None
    bound_tax_id, bound_tenant = (bound[0], bound[1]) if bound else (None, None)
    earlier = bound_tenant if bound_tax_id == tax_id else None
    tenant = chosen if chosen is not None else _only(candidates, earlier)
    if tenant is None:
        raise TenantUnclear(
            f"{len(candidates)} tenants have enterprise {tax_id}: name the "
            f"tenant {msisdn} is bound for",
            field="tax_id",
        )
    if holder is not None and holder != tenant:
        raise HeldInAnotherTenant(
            f"{msisdn} is held by a person of another tenant than the binding's",
            field="number",
        )
    return tenant


def _only(candidates: set[int], earlier: int | None) -> int | None:
    """The candidate the binding is for without asking: the one it was for
    already with that tax id (``earlier``), or the only one."""
    if earlier in candidates:
        return earlier
    if len(candidates) == 1:
        return next(iter(candidates))
    return None
