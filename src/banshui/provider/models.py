"""The nonces the provider API has seen, so a captured request cannot run twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
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
