"""Registering inbound gateways (sources) and finding them for a webhook."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from sqlalchemy import select

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.vault import Vault
from banshui.numbers.phones import normalize_mobile
from banshui.sms.models import Source

KINDS = ("smsforwarder", "android-gateway", "twilio", "generic")
# Gateways whose request does not say which number received the SMS.
KINDS_WITHOUT_NUMBER = ("smsforwarder",)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SECRET_PURPOSE = "source-secret"


def webhook_url(public_url: str, kind: str, name: str) -> str:
    return f"{public_url.rstrip('/')}/hooks/sms/{kind}/{name}"


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
        if await session.scalar(select(Source.id).where(Source.name == name)):
            raise Conflict(f"a source named {name!r} exists already", field="name")
        session.add(source)
        record(session, clock, actor=actor, action="source.add", subject=name)
    return source


async def find_source(db: Database, kind: str, name: str) -> Source:
    async with db.session() as session:
        source = await session.scalar(
            select(Source).where(Source.name == name, Source.kind == kind)
        )
    if source is None:
        raise NotFound(f"no {kind} source named {name!r}")
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
    if len(secret) < 16:
        raise InvalidInput("must be at least 16 characters", field="secret")

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
