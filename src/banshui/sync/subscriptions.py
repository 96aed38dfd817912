"""A tenant's webhook subscriptions; the signing secret is sealed, shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.vault import Vault
from banshui.sync.kinds import validate_pattern
from banshui.sync.models import Subscription

MOST_SUBSCRIPTIONS = 20
MIN_SECRET = 16


def secret_purpose(subscription_id: str) -> str:
    # Bound to its subscription: a sealed secret opens for no other.
    return f"webhook-subscription:{subscription_id}"


@dataclass(frozen=True, slots=True)
class NewSubscription:
    subscription: Subscription
    secret: str  # given or generated; shown to the caller this once


async def subscribe(
    db: Database,
    vault: Vault,
    clock: Clock,
    *,
    tenant_id: int,
    url: str,
    events: list[str],
    secret: str | None,
    actor: str,
) -> NewSubscription:
    """Checked whole before anything is written."""
    url = _http_url(url)
    patterns = _patterns(events)
    if secret is not None and len(secret) < MIN_SECRET:
        raise InvalidInput(f"must be at least {MIN_SECRET} characters", field="secret")
    secret = secret or secrets.token_urlsafe(32)
    subscription_id = "wh_" + secrets.token_hex(12)

    subscription = Subscription(
        id=subscription_id,
        tenant_id=tenant_id,
        url=url,
        events=patterns,
        secret_sealed=vault.seal(secret, secret_purpose(subscription_id)),
        created_at=clock.now(),
    )
    async with db.transaction() as session:
        held = await session.scalar(
            select(func.count()).where(Subscription.tenant_id == tenant_id)
        )
        if (held or 0) >= MOST_SUBSCRIPTIONS:
            raise Conflict(f"a tenant may hold at most {MOST_SUBSCRIPTIONS} webhooks")
        session.add(subscription)
        record(
            session,
            clock,
            actor=actor,
            action="webhook.add",
            subject=f"webhook:{subscription_id}",
            detail=f"tenant:{tenant_id} events:{','.join(patterns)}",
        )
    return NewSubscription(subscription, secret)


async def subscriptions_of(db: Database, tenant_id: int) -> list[Subscription]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Subscription)
            .where(Subscription.tenant_id == tenant_id)
            .order_by(Subscription.created_at, Subscription.id)
        )
        return list(rows)


async def subscription_of(
    db: Database, tenant_id: int, subscription_id: str
) -> Subscription:
    """The tenant's subscription; another tenant's is as missing as none."""
    async with db.session() as session:
        found = await session.get(Subscription, subscription_id)
    if found is None or found.tenant_id != tenant_id:
        raise NotFound(f"no webhook {subscription_id}")
    return found


async def unsubscribe(
    db: Database, clock: Clock, tenant_id: int, subscription_id: str, actor: str
) -> None:
    """Gone with its deliveries: nothing more is sent to it."""
    async with db.transaction() as session:
        found = await session.get(Subscription, subscription_id)
        if found is None or found.tenant_id != tenant_id:
            raise NotFound(f"no webhook {subscription_id}")
        await session.delete(found)
        record(
            session,
            clock,
            actor=actor,
            action="webhook.remove",
            subject=f"webhook:{subscription_id}",
            detail=f"tenant:{tenant_id}",
        )


def _http_url(value: str) -> str:
    url = value.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 1000:
        raise InvalidInput("must be an http:// or https:// URL", field="url")
    if any(character.isspace() for character in url):
        raise InvalidInput("must not contain spaces", field="url")
    return url


def _patterns(events: list[str]) -> list[str]:
    if not events:
        raise InvalidInput("name at least one event kind", field="events")
    checked = [
        validate_pattern(pattern, f"events.{index}")
        for index, pattern in enumerate(events)
    ]
    return list(dict.fromkeys(checked))
