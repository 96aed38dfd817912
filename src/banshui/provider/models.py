"""The provider API's nonces; the codes asked for on numbers hosted elsewhere."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class ProviderNonce(Base):
    """One signed request's nonce, unique per customer while it could be replayed."""

    __tablename__ = "provider_nonces"
    __table_args__ = (UniqueConstraint("customer_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class RemoteCodeRequest(Base):
    """A code asked for on a number hosted at another provider: it counts (R3).

    Stored, not held in memory, so the day's count survives a restart.
    """

    __tablename__ = "remote_code_requests"
    __table_args__ = (Index("ix_remote_code_requests_number_day", "number", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(11))
    waiter: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)
