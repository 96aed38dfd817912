"""What a caller may see: their tenant's rows, or every tenant's on the platform.

Anything outside the caller's scope is answered as not found, so a tenant's
operator cannot learn whether another tenant's enterprise or number exists.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.models import Account, Enterprise, Person, Tenant
from banshui.accounts.tenants import number_ids_of
from banshui.core.errors import InvalidInput, NotFound
from banshui.numbers.models import Number
from banshui.web.console.guard import Caller

# Row ids are 32-bit on PostgreSQL: a larger one in a URL names no row, and must
# not reach the database as a number it cannot hold.
MAX_ID = 2**31 - 1
_Row = TypeVar("_Row", Enterprise, Number, Account, Person)


async def tenants(session: AsyncSession, caller: Caller) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.name)
    if caller.tenant_id is not None:
        query = query.where(Tenant.id == caller.tenant_id)
    return list(await session.scalars(query))


def numbers_of_tenant(tenant_id: int) -> Select[Any]:
    """Number ids of a tenant: held by its persons, or bound for it."""
    return number_ids_of(tenant_id)


async def msisdns(session: AsyncSession, caller: Caller) -> list[str] | None:
    """The numbers the caller may see; None means every number."""
    if caller.tenant_id is None:
        return None
    ids = numbers_of_tenant(caller.tenant_id)
    found = await session.scalars(select(Number.msisdn).where(Number.id.in_(ids)))
    return list(found)


async def enterprise(
    session: AsyncSession, caller: Caller, enterprise_id: int
) -> Enterprise:
    found = await _get(session, Enterprise, enterprise_id)
    if found is None or not caller.sees(found.tenant_id):
        raise NotFound("没有这家企业。")
    return found


async def number(session: AsyncSession, caller: Caller, number_id: int) -> Number:
    found = await _get(session, Number, number_id)
    if found is None:
        raise NotFound("没有这个号码。")
    if caller.tenant_id is not None:
        ids = numbers_of_tenant(caller.tenant_id)
        if not await session.scalar(select(ids.where(Number.id == found.id).exists())):
            raise NotFound("没有这个号码。")
    return found


async def account(session: AsyncSession, caller: Caller, account_id: int) -> Account:
    found = await _get(session, Account, account_id)
    if found is None or not caller.sees(found.tenant_id):
        raise NotFound("没有这个账号。")
    return found


async def person(session: AsyncSession, caller: Caller, person_id: int) -> Person:
    found = await _get(session, Person, person_id)
    if found is None or not caller.sees(found.tenant_id):
        raise NotFound("没有这个自然人。")
    return found


async def tenant_for_new(session: AsyncSession, caller: Caller, chosen: str) -> int:
    """The tenant a new row goes to: the caller's own, or the one a platform
    operator chose on the form."""
    if caller.tenant_id is not None:
        return caller.tenant_id
    tenant = await session.get(Tenant, int(chosen)) if chosen.isdigit() else None
    if tenant is not None:
        return tenant.id
    raise InvalidInput("请选择租户。", field="tenant_id")


async def _get(session: AsyncSession, model: type[_Row], row_id: int) -> _Row | None:
    if not 1 <= row_id <= MAX_ID:
        return None
    return await session.get(model, row_id)
