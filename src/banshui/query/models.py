"""Refused query attempts per client address, kept so the limit survives restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class QueryRefusal(Base):
    """One refused attempt on the query page, by the address it came from."""

    __tablename__ = "query_refusals"
    __table_args__ = (Index("ix_query_refusals_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
