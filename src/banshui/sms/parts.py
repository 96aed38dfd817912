"""Long SMS (长短信): parts kept until all have arrived, then joined into one SMS.

Any format can use it by setting ``ReceivedSms.part``. A part is kept once per
(source, ref, index), whatever order the parts come in; the last one to arrive
joins them in index order into one SMS, which the inbox then stores like any
other. The long SMS stays on record as joined, so a part sent again afterwards
is a duplicate and changes nothing. All of it happens in the caller's
transaction, the one that is committed before the gateway is acknowledged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from banshui.core.upsert import insert_ignoring_conflict_sync
from banshui.sms.gateways.base import MalformedSms, PartInfo, ReceivedSms
from banshui.sms.parts_models import LongSms, LongSmsPart


@dataclass(frozen=True, slots=True)
class Gathered:
    """What one part did: completed its SMS, waits for others, or was here before."""

    joined: ReceivedSms | None
    duplicate: bool


def gather(
    session: Session, source_id: int, sms: ReceivedSms, now: datetime
) -> Gathered:
    """Keep one part; the joined SMS when it was the last one missing."""
    part = sms.part
    if part is None:
        raise ValueError("gather takes parts of a long SMS only")
    if not 1 <= part.index <= part.total:
        message = f"part.index: {part.index} is not between 1 and {part.total}"
        raise MalformedSms(message, field="part.index")

    long_sms = _long_sms(session, source_id, part, now)
    if long_sms.joined_at is not None:
        return Gathered(joined=None, duplicate=True)

    if not _keep(session, long_sms.id, part.index, sms, now):
        return Gathered(joined=None, duplicate=True)

    parts = _parts(session, long_sms.id)
    if len(parts) < long_sms.total:
        return Gathered(joined=None, duplicate=False)

    joined = _joined(part.ref, parts)
    _close(session, long_sms.id, now)
    return Gathered(joined=joined, duplicate=False)


def _long_sms(
    session: Session, source_id: int, part: PartInfo, now: datetime
) -> LongSms:
    values = {
        "source_id": source_id,
        "ref": part.ref,
        "total": part.total,
        "started_at": now,
    }
    insert_ignoring_conflict_sync(session, LongSms, values)

    # The row lock makes the parts of one long SMS arrive one at a time on
    # PostgreSQL, so the last two cannot each miss the other and never join.
    long_sms = session.scalar(
        select(LongSms)
        .where(LongSms.source_id == source_id, LongSms.ref == part.ref)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert long_sms is not None  # inserted or found just above
    if long_sms.total != part.total:
        message = (
            f"part.total: is {part.total}, but earlier parts of this ref "
            f"said {long_sms.total}"
        )
        raise MalformedSms(message, field="part.total")
    return long_sms


def _keep(
    session: Session, long_sms_id: int, index: int, sms: ReceivedSms, now: datetime
) -> bool:
    """Store the part; False when this index was here already."""
    values = {
        "long_sms_id": long_sms_id,
        "part_index": index,
        "sender": sms.sender[:100],
        "text": sms.text,
        "number": sms.number,
        "sim_slot": sms.sim_slot,
        "gateway_time": sms.gateway_time,
        "received_at": now,
    }
    return insert_ignoring_conflict_sync(session, LongSmsPart, values) is not None


def _parts(session: Session, long_sms_id: int) -> list[LongSmsPart]:
    rows = session.scalars(
        select(LongSmsPart)
        .where(LongSmsPart.long_sms_id == long_sms_id)
        .order_by(LongSmsPart.index)
    )
    return list(rows)


def _close(session: Session, long_sms_id: int, now: datetime) -> None:
    # The joined SMS holds the text now; the long SMS row stays to refuse late parts.
    session.execute(
        update(LongSms).where(LongSms.id == long_sms_id).values(joined_at=now)
    )
    session.execute(delete(LongSmsPart).where(LongSmsPart.long_sms_id == long_sms_id))


def _joined(ref: str, parts: list[LongSmsPart]) -> ReceivedSms:
    """The whole SMS; who sent it, to which number and when is what part 1 says."""
    first = parts[0]
    return ReceivedSms(
        sender=first.sender,
        text="".join(part.text for part in parts),
        identity=json.dumps(["long-sms", ref]),
        number=first.number,
        sim_slot=first.sim_slot,
        gateway_time=first.gateway_time,
    )
