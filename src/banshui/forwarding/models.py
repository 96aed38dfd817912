"""Tables of forwarding: outbound channels, routes and the queue of forwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class ForwardChannel(Base):
    """A way out: an SMS gateway that can send, a signed webhook or a group robot."""

    __tablename__ = "forward_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Settings that are not secret (base URL, account sid, from-number, user).
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A JSON object of the secret settings (token, password, robot URL), sealed.
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ForwardRoute(Base):
    """SMS to ``number`` go out through ``channel``."""

    __tablename__ = "forward_routes"
    __table_args__ = (UniqueConstraint("number", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(11), index=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("forward_channels.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Forward(Base):
    """One SMS to send through one route: due, sending, sent or failed."""

    __tablename__ = "forwards"
    __table_args__ = (
        UniqueConstraint("sms_id", "route_id"),
        Index("ix_forwards_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sms_id: Mapped[int] = mapped_column(ForeignKey("inbound_sms.id"))
    route_id: Mapped[int] = mapped_column(
        ForeignKey("forward_routes.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the claimed attempt went on the wire; None until it did. Committed
    # before the request leaves, so a crash cannot hide that it may have arrived.
    in_flight_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Where it went (the bound real phone, for SMS channels), as of the attempt.
    destination: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
