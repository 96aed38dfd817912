"""Refused API keys, provider signatures and chat tokens per client, for a limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class KeyRefusal(Base):
    """One refused API key, provider signature or chat token, by its client address."""

    __tablename__ = "key_refusals"
    __table_args__ = (Index("ix_key_refusals_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
