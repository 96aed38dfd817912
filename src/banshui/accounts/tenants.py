"""Tenants and their API keys (shown once, stored as a SHA-256 hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, or_, select

from banshui.accounts.models import Enterprise, Person, PersonNumber, Tenant
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, Unauthorized
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


async def tenant_for_key(db: Database, api_key: str) -> Tenant:
    """The key's tenant; looked up by hash, so timing says nothing of the key."""
    by_hash = select(Tenant).where(Tenant.api_key_hash == hash_key(api_key))
    tenant = await db.run_read(lambda session: session.scalar(by_hash))
    if tenant is None:
        raise Unauthorized("the API key is not valid")
    return tenant


def numbers_of(tenant_id: int) -> Select[str]:
    """The numbers a tenant may see: its persons' own, and those bound for it."""
    owned = (
        select(PersonNumber.number_id)
        .join(Person, Person.id == PersonNumber.person_id)
        .where(Person.tenant_id == tenant_id)
    )
    bound = (
        select(Number.id)
        .join(Enterprise, Enterprise.tax_id == Number.tax_id)
        .where(Enterprise.tenant_id == tenant_id)
    )
    return select(Number.msisdn).where(or_(Number.id.in_(owned), Number.id.in_(bound)))
