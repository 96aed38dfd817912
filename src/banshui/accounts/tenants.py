"""Tenants and their API keys (shown once, stored as a SHA-256 hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from banshui.accounts.models import Enterprise, Person, PersonNumber, Tenant
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput
from banshui.numbers.models import Number

KEY_PREFIX = "bsk_"


@dataclass(frozen=True, slots=True)
class NewTenant:
    tenant: Tenant
    api_key: str


def hash_key(api_key: str) -> str:
    # The key has 256 bits of entropy, so a plain hash is enough to store it.
    return hashlib.sha256(api_key.encode()).hexdigest()


async def add_tenant(
    db: Database, clock: Clock, name: str, actor: str = "cli"
) -> NewTenant:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("must be 1–200 characters", field="name")

    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    tenant = Tenant(name=name, api_key_hash=hash_key(api_key), created_at=clock.now())
    async with db.transaction() as session:
        if await session.scalar(select(Tenant.id).where(Tenant.name == name)):
            raise Conflict(f"a tenant named {name!r} exists already", field="name")
        session.add(tenant)
        record(session, clock, actor=actor, action="tenant.add", subject=name)
    return NewTenant(tenant=tenant, api_key=api_key)


def tenant_of_key(session: Session, api_key: str) -> Tenant | None:
    """The key's tenant; looked up by hash, so timing says nothing of the key."""
    by_hash = select(Tenant).where(Tenant.api_key_hash == hash_key(api_key))
    return session.scalar(by_hash)


class TenantUnclear(Conflict):
    """Several tenants have the enterprise, and none holds the sub-number."""


class HeldInAnotherTenant(Conflict):
    """A person of a tenant without the enterprise holds the sub-number (R1)."""


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


async def tenant_to_bind(db: Database, tax_id: str, msisdn: str) -> int | None:
    """The tenant a binding of the sub-number for ``tax_id`` is for.

    The tenants with an enterprise of that tax id are the candidates. The one
    whose person holds the sub-number is it; with no holder, the one the
    number is bound for already with that tax id, else the only candidate.
    None when no tenant has the enterprise yet: the binding is then for no
    tenant, and is bound again once one has it. ``TenantUnclear`` when several
    are left; ``HeldInAnotherTenant`` when a tenant without the enterprise
    holds the number (the binding would show that person's SMS to others).
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

    if not candidates:
        return None
    if holder is not None:
        if holder in candidates:
            return holder
        raise HeldInAnotherTenant(
            f"{msisdn} is held by a person of a tenant without enterprise {tax_id}",
            field="number",
        )
    bound_tax_id, bound_tenant = bound or (None, None)
    if bound_tax_id == tax_id and bound_tenant in candidates:
        return bound_tenant
    if len(candidates) == 1:
        return candidates.pop()
    raise TenantUnclear(
        f"{len(candidates)} tenants have enterprise {tax_id}: give {msisdn} "
        "to the person of the right tenant first",
        field="tax_id",
    )
