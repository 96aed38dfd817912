"""The live inbox: the latest SMS of the numbers a caller may see, a tenant's
caller only those that came while the number was the tenant's (``seen_by``).

Operators and admins see a fresh code marked in its text; a code past its
validity is masked, as on the query page. Viewers see no code at all, nor any
run of digits that could be one. Every code shown is audited as seen, by whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.tenants import sms_seen_by
from banshui.audit.log import record
from banshui.query.display import MASK, Piece, hide_codes, show
from banshui.runtime import Runtime
from banshui.sms.extraction import SmsKind
from banshui.sms.models import InboundSms
from banshui.web.console.guard import Caller
from banshui.web.console.scope import msisdns

SHOWN = 50
NOT_FROM_BUREAU = "非税局号码发送（不用于登录）"
KINDS = {
    SmsKind.BUREAU_LOGIN.value: "税局登录验证码",
    SmsKind.VERIFICATION.value: "验证码",
    SmsKind.NOTICE.value: "通知",
}


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    number: str | None
    sender: str
    received: str
    kind: str
    code: str | None  # the code, MASK when stale or hidden, None when it has none
    fresh: bool  # a code that is still good and shown
    valid_until: str | None
    pieces: list[Piece]


async def latest(
    runtime: Runtime, caller: Caller, after: int = 0, number: str | None = None
) -> list[Item]:
    """Newest first; only SMS with an id above ``after``; audited if codes show."""
    async with runtime.db.session() as session:
        rows = await _rows(session, caller, after, number)
    now = runtime.clock.now()
    items = [_item(sms, now, hidden=caller.masked) for sms in rows]

    seen = [item.id for item in items if item.fresh]
    if seen:
        async with runtime.db.transaction() as session:
            record(
                session,
                runtime.clock,
                actor=caller.actor,
                action="code.viewed",
                subject="console:inbox",
                detail=", ".join(f"sms:{sms_id}" for sms_id in seen),
            )
    return items


async def _rows(
    session: AsyncSession, caller: Caller, after: int, number: str | None
) -> list[InboundSms]:
    query = (
        select(InboundSms)
        .where(InboundSms.id > after)
        .order_by(InboundSms.id.desc())
        .limit(SHOWN)
    )
    visible = await msisdns(session, caller)
    if visible is not None:
        query = query.where(InboundSms.number.in_(visible))
    if caller.tenant_id is not None:
        query = query.where(sms_seen_by(caller.tenant_id))
    if number is not None:
        query = query.where(InboundSms.number == number)
    return list(await session.scalars(query))


def _item(sms: InboundSms, now: datetime, hidden: bool) -> Item:
    shown = show(sms, now)
    code, pieces = shown.code, shown.pieces
    if hidden:
        # Every run of digits too: the extractor may not know this code's wording.
        code = MASK if sms.code is not None else None
        pieces = hide_codes(sms.text, sms.code)
    fresh = code is not None and code != MASK
    return Item(
        id=sms.id,
        number=sms.number,
        sender=shown.sender,
        received=shown.received,
        kind=_kind(sms),
        code=code,
        fresh=fresh,
        valid_until=shown.valid_until if fresh else None,
        pieces=pieces,
    )


def _kind(sms: InboundSms) -> str:
    # The bureau's words from a sender that is not the bureau's: never used to log in.
    if sms.kind == SmsKind.BUREAU_LOGIN and not sms.from_bureau:
        return NOT_FROM_BUREAU
    return KINDS.get(sms.kind, sms.kind)
