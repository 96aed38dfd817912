"""Registering inbound gateways (sources), keeping them, finding them for a webhook."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.vault import Vault
from banshui.numbers.phones import normalize_mobile
from banshui.sms.models import InboundSms, Source

KINDS = ("smsforwarder", "android-gateway", "twilio", "generic")
# Gateways whose request does not say which number received the SMS.
KINDS_WITHOUT_NUMBER = ("smsforwarder",)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SECRET_PURPOSE = "source-secret"


class SourceChanged(Exception):
    """The source's secret was replaced, or it was removed, since it was looked up."""


@dataclass(frozen=True, slots=True)
class ListedSource:
    source: Source
    # None when it never received an SMS.
    last_received_at: datetime | None


def webhook_path(kind: str, name: str) -> str:
    return f"/hooks/sms/{kind}/{name}"


def webhook_url(public_url: str, kind: str, name: str) -> str:
    return public_url.rstrip("/") + webhook_path(kind, name)


async def add_source(
    db: Database,
    vault: Vault,
    clock: Clock,
    *,
    kind: str,
    name: str,
    secret: str,
    number: str | None = None,
    sim_slots: dict[str, str] | None = None,
    public_url: str | None = None,
    customer_id: int | None = None,
    actor: str = "cli",
) -> Source:
    """A new source; its secret is sealed and never shown again."""
    source = _validated(kind, name, secret, number, sim_slots or {}, public_url)
    source.secret_sealed = vault.seal(secret, SECRET_PURPOSE)
    source.customer_id = customer_id
    source.created_at = clock.now()

    async with db.transaction() as session:
        taken = await session.scalar(select(Source).where(Source.name == name))
        if taken is not None and taken.removed_at is not None:
            # Its SMS still name it: a new gateway under that name would blur them.
            raise Conflict(
                f"a source named {name!r} was removed, and its name is not reused",
                field="name",
            )
        if taken is not None:
            raise Conflict(f"a source named {name!r} exists already", field="name")
        session.add(source)
        record(session, clock, actor=actor, action="source.add", subject=name)
    return source


async def find_source(db: Database, kind: str, name: str) -> Source:
    """A source in use; a removed one is as unknown as one never added."""
    async with db.session() as session:
        source = await session.scalar(
            select(Source).where(
                Source.name == name, Source.kind == kind, Source.removed_at.is_(None)
            )
        )
    if source is None:
        raise NotFound(f"no {kind} source named {name!r}")
    return source


async def list_sources(db: Database) -> list[ListedSource]:
    """Every source, removed ones too, with when it last received an SMS."""
    # One index seek per source (ix_inbound_sms_source_received), not a scan.
    last = (
        select(func.max(InboundSms.received_at))
        .where(InboundSms.source_id == Source.id)
        .scalar_subquery()
    )
    query = select(Source, last).order_by(Source.id)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return [ListedSource(source, received) for source, received in rows]


async def rotate_secret(
    db: Database, vault: Vault, clock: Clock, name: str, secret: str, actor: str = "cli"
) -> Source:
    """A new secret: a request signed with the old one is refused from now on."""
    _check_secret(secret)
    async with db.transaction() as session:
        source = await _in_use(session, name)
        source.secret_sealed = vault.seal(secret, SECRET_PURPOSE)
        record(
            session, clock, actor=actor, action="source.secret_rotated", subject=name
        )
    return source


async def remove_source(
    db: Database, clock: Clock, name: str, actor: str = "cli"
) -> Source:
    """Its webhook answers as for no source from now on; its SMS stay in the inbox."""
    async with db.transaction() as session:
        source = await _in_use(session, name)
        source.removed_at = clock.now()
        record(session, clock, actor=actor, action="source.removed", subject=name)
    return source


async def _in_use(session: AsyncSession, name: str) -> Source:
    source = await session.scalar(
        select(Source).where(Source.name == name).with_for_update()
    )
    if source is None:
        raise NotFound(f"no source named {name!r}", field="name")
    if source.removed_at is not None:
        raise Conflict(
            f"source {name!r} was removed at {source.removed_at.isoformat()}",
            field="name",
        )
    return source


class KnownSources:
    """Sources found for webhooks, remembered a few seconds.

    A gateway posts every SMS to the same source, so looking it up in the
    database each time is most of what a webhook costs before it stores.
    Only sources that exist are remembered, so made-up names cannot fill the
    memory; and only briefly, so that a source changed in another process
    (PostgreSQL) is seen within ``seconds``.
    """

    def __init__(
        self,
        db: Database,
        seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._seconds = seconds
        self._monotonic = monotonic
        self._found: dict[tuple[str, str], tuple[float, Source]] = {}

    async def find(self, kind: str, name: str) -> Source:
        now = self._monotonic()
        remembered = self._found.get((kind, name))
        if remembered is not None and now - remembered[0] < self._seconds:
            return remembered[1]

        source = await find_source(self._db, kind, name)
        self._found[(kind, name)] = (now, source)
        return source

    async def refresh(self, kind: str, name: str) -> Source:
        """The source as the database holds it now, remembered afresh."""
        self._found.pop((kind, name), None)
        return await self.find(kind, name)


def _validated(
    kind: str,
    name: str,
    secret: str,
    number: str | None,
    sim_slots: dict[str, str],
    public_url: str | None,
) -> Source:
    if kind not in KINDS:
        raise InvalidInput(f"{kind!r} is not one of {', '.join(KINDS)}", field="kind")
    if not _NAME.match(name):
        raise InvalidInput(
            "must be 1–63 lowercase letters, digits, '-' or '_'", field="name"
        )
    _check_secret(secret)

    slots = {
        str(slot): normalize_mobile(value, field=f"sim_slots.{slot}")
        for slot, value in sim_slots.items()
    }
    own = normalize_mobile(number, field="number") if number else None
    if kind in KINDS_WITHOUT_NUMBER and own is None and not slots:
        raise InvalidInput(
            f"a {kind} request does not say which number received the SMS: "
            "give the phone's number or its SIM slots",
            field="number",
        )
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise InvalidInput("must start with http:// or https://", field="public_url")
    return Source(
        kind=kind, name=name, number=own, sim_slots=slots, public_url=public_url
    )


def _check_secret(secret: str) -> None:
    if len(secret) < 16:
        raise InvalidInput("must be at least 16 characters", field="secret")
