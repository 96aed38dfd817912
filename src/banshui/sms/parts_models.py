"""Tables of long SMS (长短信): the parts gathered until the whole can be joined."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class LongSms(Base):
    """One long SMS of a source; kept once joined, so a late part changes nothing."""

    __tablename__ = "long_sms"
    __table_args__ = (UniqueConstraint("source_id", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    ref: Mapped[str] = mapped_column(String(200))
    total: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LongSmsPart(Base):
    """One part that has arrived; deleted once its long SMS is joined."""

    __tablename__ = "long_sms_parts"
    __table_args__ = (UniqueConstraint("long_sms_id", "part_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    long_sms_id: Mapped[int] = mapped_column(ForeignKey("long_sms.id"))
    index: Mapped[int] = mapped_column("part_index", Integer)
    sender: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(String(11))
    sim_slot: Mapped[str | None] = mapped_column(String(8))
    gateway_time: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
