"""Setting up forwarding: channels (with their secrets sealed) and routes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput
from banshui.core.vault import Vault
from banshui.forwarding.channels.registry import channel_for
from banshui.forwarding.models import ForwardChannel, ForwardRoute
from banshui.numbers.models import Number
from banshui.numbers.phones import mask, normalize_mobile

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SECRET_KEY = "secret"


def secret_purpose(channel_name: str) -> str:
    # Bound to the channel's name: one channel's sealed secret opens for no other.
    return f"forward-channel:{channel_name}"


@dataclass(frozen=True, slots=True)
class Unsealed:
    """A channel's settings with its sealed ones opened, for a send only."""

    config: dict[str, Any]
    secret: str | None
    # Every secret value, so an error text can be scrubbed of them.
    hidden: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteView:
    id: int
    number: str
    channel: str
    kind: str
    # Masked bound phone for SMS channels; "robot" or "webhook" for the others.
    destination: str


async def add_channel(
    db: Database,
    vault: Vault,
    clock: Clock,
    *,
    kind: str,
    name: str,
    config: dict[str, str],
    secret: str | None = None,
    actor: str = "cli",
) -> ForwardChannel:
    """A new channel; its secret settings are sealed and never shown again."""
    channel = channel_for(kind)
    if not _NAME.match(name):
        raise InvalidInput(
            "must be 1–63 lowercase letters, digits, '-' or '_'", field="name"
        )
    settings = channel.configure(config, secret or None)

    row = ForwardChannel(
        kind=kind,
        name=name,
        config={k: v for k, v in settings.items() if k not in channel.sealed_keys},
        secret_sealed=_sealed(vault, name, channel.sealed_keys, settings, secret),
        created_at=clock.now(),
    )
    async with db.transaction() as session:
        if await session.scalar(
            select(ForwardChannel.id).where(ForwardChannel.name == name)
        ):
            raise Conflict(f"a channel named {name!r} exists already", field="name")
        session.add(row)
        record(session, clock, actor=actor, action="forward.channel.add", subject=name)
    return row


def unseal(vault: Vault, row: ForwardChannel) -> Unsealed:
    hidden: dict[str, Any] = {}
    if row.secret_sealed is not None:
        hidden = json.loads(vault.open(row.secret_sealed, secret_purpose(row.name)))

    secret = hidden.pop(SECRET_KEY, None)
    values = tuple(str(v) for v in [secret, *hidden.values()] if v)
    return Unsealed(config={**row.config, **hidden}, secret=secret, hidden=values)


async def list_channels(db: Database) -> list[ForwardChannel]:
    async with db.session() as session:
        rows = await session.scalars(select(ForwardChannel).order_by(ForwardChannel.id))
        return list(rows)


async def add_route(
    db: Database,
    clock: Clock,
    *,
    number: str,
    channel_name: str,
    to: str | None = None,
    actor: str = "cli",
) -> RouteView:
    """SMS to ``number`` forward through the channel from now on."""
    msisdn = normalize_mobile(number, field="number")
    async with db.transaction() as session:
        channel = await _channel_named(session, channel_name)
        bound = await session.scalar(
            select(Number.bound_phone).where(Number.msisdn == msisdn)
        )
        destination = _destination(channel.kind, msisdn, bound, to)
        await _refuse_taken(session, msisdn, channel)

        route = ForwardRoute(
            number=msisdn, channel_id=channel.id, created_at=clock.now()
        )
        session.add(route)
        await session.flush()
        record(
            session,
            clock,
            actor=actor,
            action="forward.route.add",
            subject=msisdn,
            detail=f"channel:{channel_name}",
        )
    return RouteView(route.id, msisdn, channel.name, channel.kind, destination)


async def _channel_named(session: AsyncSession, name: str) -> ForwardChannel:
    channel = await session.scalar(
        select(ForwardChannel).where(ForwardChannel.name == name)
    )
    if channel is None:
        raise InvalidInput(f"no forwarding channel named {name!r}", field="channel")
    return channel


async def _refuse_taken(
    session: AsyncSession, number: str, channel: ForwardChannel
) -> None:
    taken = await session.scalar(
        select(ForwardRoute.id).where(
            ForwardRoute.number == number, ForwardRoute.channel_id == channel.id
        )
    )
    if taken is not None:
        raise Conflict(
            f"{number} forwards through {channel.name!r} already", field="channel"
        )


async def list_routes(db: Database) -> list[RouteView]:
    async with db.session() as session:
        rows = await session.execute(
            select(ForwardRoute, ForwardChannel, Number.bound_phone)
            .join(ForwardChannel, ForwardChannel.id == ForwardRoute.channel_id)
            .outerjoin(Number, Number.msisdn == ForwardRoute.number)
            .order_by(ForwardRoute.number, ForwardRoute.id)
        )
        return [
            RouteView(
                route.id,
                route.number,
                channel.name,
                channel.kind,
                _shown_destination(channel.kind, bound),
            )
            for route, channel, bound in rows
        ]


def _destination(kind: str, number: str, bound: str | None, to: str | None) -> str:
    """Check ``--to`` against the rule: SMS go only to the bound real phone."""
    if not channel_for(kind).sends_sms:
        if to:
            raise InvalidInput(
                f"a {kind} channel sends to its own URL: leave the phone out",
                field="to",
            )
        return _shown_destination(kind, None)

    if bound is None:
        raise InvalidInput(
            f"{number} has no bound real phone: bind it before forwarding by SMS",
            field="number",
        )
    if to and normalize_mobile(to, field="to") != bound:
        raise InvalidInput(
            f"SMS go only to the number's bound real phone ({mask(bound)})",
            field="to",
        )
    return mask(bound)


def _shown_destination(kind: str, bound: str | None) -> str:
    if not channel_for(kind).sends_sms:
        return "webhook" if kind == "webhook" else "robot"
    return mask(bound) if bound else "(no bound phone)"


def _sealed(
    vault: Vault,
    name: str,
    sealed_keys: frozenset[str],
    settings: dict[str, str],
    secret: str | None,
) -> str | None:
    hidden = {key: settings[key] for key in sealed_keys if key in settings}
    if secret:
        hidden[SECRET_KEY] = secret
    if not hidden:
        return None
    return vault.seal(json.dumps(hidden), secret_purpose(name))
