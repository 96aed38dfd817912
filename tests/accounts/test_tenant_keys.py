"""Tenants listed without their keys; a key rotated is the only one that works."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from banshui.accounts.service import Registry
from banshui.accounts.tenants import (
    add_tenant,
    hash_key,
    list_tenants,
    rotate_key,
    tenant_of_key,
)
from banshui.audit.models import AuditEntry
from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.core.errors import NotFound
from banshui.core.vault import Vault
from banshui.demo.cast import A, B

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@dataclass
class Desk:
    db: Database
    clock: ManualClock
    registry: Registry

    async def holds(self, api_key: str) -> str | None:
        """The name of the tenant the key opens, as the API looks it up."""
        tenant = await self.db.run_read(lambda s: tenant_of_key(s, api_key))
        return None if tenant is None else tenant.name


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    db = Database(database_url)
    clock = ManualClock(START)
    try:
        yield Desk(db, clock, Registry(db, Vault(os.urandom(32)), clock))
    finally:
        await db.close()


async def test_tenants_are_listed_oldest_first_with_their_enterprises(
    desk: Desk,
) -> None:
    group = await add_tenant(desk.db, desk.clock, "示例集团")
    desk.clock.advance(60)
    await add_tenant(desk.db, desk.clock, "另一集团")
    for company in (A, B):
        await desk.registry.add_enterprise(group.tenant.id, company.tax_id, "x")

    listed = await list_tenants(desk.db)

    assert [(t.name, t.enterprises) for t in listed] == [
        ("示例集团", 2),
        ("另一集团", 0),
    ]
    assert listed[1].created_at == datetime(2026, 3, 2, 2, 1, tzinfo=UTC)
    assert not hasattr(listed[0], "api_key_hash")


async def test_a_rotated_key_opens_the_tenant_and_the_old_one_nothing(
    desk: Desk,
) -> None:
    made = await add_tenant(desk.db, desk.clock, "示例集团")

    rotated = await rotate_key(desk.db, desk.clock, "示例集团")

    assert rotated.api_key != made.api_key and rotated.api_key.startswith("bsk_")
    assert await desk.holds(rotated.api_key) == "示例集团"
    assert await desk.holds(made.api_key) is None


async def test_a_tenant_is_found_by_its_id_and_a_name_of_digits_wins(
    desk: Desk,
) -> None:
    first = await add_tenant(desk.db, desk.clock, "示例集团")
    digits = await add_tenant(desk.db, desk.clock, str(first.tenant.id))

    by_name = await rotate_key(desk.db, desk.clock, str(first.tenant.id))
    by_id = await rotate_key(desk.db, desk.clock, str(digits.tenant.id))

    assert by_name.tenant.id == digits.tenant.id
    assert by_id.tenant.id == digits.tenant.id
    assert await desk.holds(first.api_key) == "示例集团"


@pytest.mark.parametrize("asked", ["无此集团", "7", "99999999999"])
async def test_an_unknown_tenant_is_refused_naming_the_field(
    desk: Desk, asked: str
) -> None:
    await add_tenant(desk.db, desk.clock, "示例集团")

    with pytest.raises(NotFound) as refused:
        await rotate_key(desk.db, desk.clock, asked)

    assert refused.value.field == "tenant"


async def test_a_rotation_is_audited_without_the_key_or_its_hash(
    desk: Desk,
) -> None:
    await add_tenant(desk.db, desk.clock, "示例集团")

    rotated = await rotate_key(desk.db, desk.clock, "示例集团", actor="cli")

    async with desk.db.session() as session:
        entries = list(await session.scalars(select(AuditEntry)))
    last = entries[-1]
    assert (last.action, last.subject, last.actor) == (
        "tenant.key_rotated",
        "示例集团",
        "cli",
    )
    written = repr([(e.subject, e.detail) for e in entries])
    assert rotated.api_key not in written and hash_key(rotated.api_key) not in written
