"""Tables of the inbox: gateway sources, stored SMS and awaited codes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class Source(Base):
    """One inbound gateway (a phone running SmsForwarder, a Twilio number, …)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    secret_sealed: Mapped[str] = mapped_column(String(400))
    # The number it receives for, when the gateway does not say; or per SIM slot.
    number: Mapped[str | None] = mapped_column(String(11))
    sim_slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public_url: Mapped[str | None] = mapped_column(String(500))
    # Set when a number-side customer registered it through the provider API.
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by ``banshui source remove``: its webhook answers as for no source, and
    # the row stays, for the SMS it received refer to it.
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboundSms(Base):
    """One SMS as received; ``received_at`` (server, UTC) is the truth for freshness."""

    __tablename__ = "inbound_sms"
    __table_args__ = (
        Index("ix_inbound_sms_number_received", "number", "received_at"),
        # When each source last received an SMS, for ``banshui source list``.
        Index("ix_inbound_sms_source_received", "source_id", "received_at"),
        # A bureau code seen on the number before: is a new one a copy of it?
        Index("ix_inbound_sms_number_code", "number", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str | None] = mapped_column(String(11))
    sender: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    gateway_time: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)
    code: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(20))
    # Sent by one of the bureau's senders; any other SMS is kept and shown, but
    # its code is never handed to a login nor counted against the quota.
    from_bureau: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    expectation_id: Mapped[int | None] = mapped_column(
        ForeignKey("code_expectations.id"), index=True
    )
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The bureau code SMS this one repeats (the same code to the same number,
    # while it was valid, through another gateway or with another id): kept and
    # shown, never handed to anyone nor counted again (DESIGN §5.5, §5.6).
    copy_of_id: Mapped[int | None] = mapped_column(Integer)


class CodeExpectation(Base):
    """A code banshui asked the bureau for; it counts against the day's quota (R3)."""

    __tablename__ = "code_expectations"
    __table_args__ = (
        Index("ix_code_expectations_number_day", "number", "day"),
        # A number awaits one code at a time, whichever process asked for it.
        Index(
            "uq_code_expectations_awaited",
            "number",
            unique=True,
            sqlite_where=text("NOT fulfilled AND abandoned_at IS NULL"),
            postgresql_where=text("NOT fulfilled AND abandoned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(11))
    waiter: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)
    # Set when the waiter gave up: a code arriving later is never handed out.
    abandoned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fulfilled: Mapped[bool] = mapped_column(Boolean, default=False)


class UsedNonce(Base):
    """A signature (or nonce) already seen, so a captured one cannot be replayed."""

    __tablename__ = "used_nonces"
    __table_args__ = (UniqueConstraint("source_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    nonce: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
