"""What operators see of the queue: status and errors, never texts or codes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from banshui.core.db import Database
from banshui.core.errors import InvalidInput
from banshui.forwarding.models import Forward, ForwardChannel, ForwardRoute
from banshui.forwarding.queue import ForwardStatus
from banshui.numbers.phones import mask
from banshui.sms.models import InboundSms

STATUSES = tuple(status.value for status in ForwardStatus)


@dataclass(frozen=True, slots=True)
class ForwardView:
    id: int
    sms_id: int
    number: str
    sender: str
    channel: str
    kind: str
    status: str
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    # Masked: the list is for operators, not a directory of real phones.
    destination: str | None
    last_error: str | None
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        for key in ("due_at", "sent_at", "created_at"):
            if values[key] is not None:
                values[key] = values[key].isoformat()
        return values


async def list_forwards(
    db: Database,
    status: str | None = None,
    limit: int = 100,
    numbers: Select[str] | None = None,
    sms: ColumnElement[bool] | None = None,
) -> list[ForwardView]:
    """The newest forwards first, of one status or all; of ``numbers`` if given,
    and of the SMS ``sms`` holds for (a tenant's to see) if given."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"{status!r} is not one of {', '.join(STATUSES)}", field="status"
        )
    query = (
        select(Forward, ForwardRoute.number, InboundSms.sender, ForwardChannel)
        .join(ForwardRoute, ForwardRoute.id == Forward.route_id)
        .join(ForwardChannel, ForwardChannel.id == ForwardRoute.channel_id)
        .join(InboundSms, InboundSms.id == Forward.sms_id)
        .order_by(Forward.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Forward.status == status)
    if numbers is not None:
        query = query.where(ForwardRoute.number.in_(numbers))
    if sms is not None:
        query = query.where(sms)

    async with db.session() as session:
        rows = await session.execute(query)
        return [_view(*row) for row in rows]


def _view(
    forward: Forward, number: str, sender: str, channel: ForwardChannel
) -> ForwardView:
    return ForwardView(
        id=forward.id,
        sms_id=forward.sms_id,
        number=number,
        sender=sender,
        channel=channel.name,
        kind=channel.kind,
        status=forward.status,
        attempts=forward.attempts,
        due_at=forward.due_at,
        sent_at=forward.sent_at,
        destination=mask(forward.destination) if forward.destination else None,
        last_error=forward.last_error,
        created_at=forward.created_at,
    )
