"""Publishing what a registry change did to the listing, in its transaction.

The listing entries of the accounts a change may touch are read before and
after it; each entry that appeared, changed or went is one ``account.*`` event.
So an event is never missed (another account losing its default, R9 warnings
of an account's other enterprises) and never sent for a change that changed
nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.models import Account
from banshui.core.clock import Clock
from banshui.sync.kinds import ACCOUNT_CHANGED, ACCOUNT_CREATED, ACCOUNT_REMOVED
from banshui.sync.listing import entries
from banshui.sync.outbox import stage

Snapshot = dict[tuple[int, str], dict[str, Any]]


@asynccontextmanager
async def publishing_changes(
    session: AsyncSession, clock: Clock, account_ids: Collection[int]
) -> AsyncIterator[set[int]]:
    """Around a change; add the id of an account the change creates to the set."""
    watched = set(account_ids)
    before = await snapshot(session, watched)
    yield watched
    await session.flush()
    await publish_changes(session, clock, before, watched)


async def snapshot(session: AsyncSession, account_ids: Collection[int]) -> Snapshot:
    found = await entries(session, account_ids)
    return {key: entry.as_json() for key, entry in found.items()}


async def publish_changes(
    session: AsyncSession,
    clock: Clock,
    before: Snapshot,
    account_ids: Collection[int],
) -> int:
    """One event per listing entry that differs from ``before``; how many."""
    after = await snapshot(session, account_ids)
    tenants = await _tenants(session, {key[0] for key in before.keys() | after.keys()})
    published = 0
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        kind, data = _event(old, new)
        tenant_id = tenants[key[0]]
        data = {"tenant_id": tenant_id, "tax_id": key[1], **data}
        await stage(session, clock, kind, data, tenant_id)
        published += 1
    return published


async def _tenants(session: AsyncSession, account_ids: set[int]) -> dict[int, int]:
    # Accounts are never deleted (login requests name them), so each is found.
    rows = await session.execute(
        select(Account.id, Account.tenant_id).where(Account.id.in_(account_ids))
    )
    return {account_id: tenant_id for account_id, tenant_id in rows}


def _event(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    if old is None:
        assert new is not None
        return ACCOUNT_CREATED, {"account": new}
    if new is None:
        return ACCOUNT_REMOVED, {"account": old}
    changed = sorted(key for key in new if new[key] != old.get(key))
    return ACCOUNT_CHANGED, {"account": new, "changed": changed}
