"""Tables of the number side."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class Number(Base):
    """A mainland mobile number banshui knows; a sub-number (办税小号) has no SIM."""

    __tablename__ = "numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(11), unique=True)
    is_sub_number: Mapped[bool] = mapped_column(Boolean, default=True)
    provider: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    bound_phone: Mapped[str | None] = mapped_column(String(11))
    service_ends_on: Mapped[date | None] = mapped_column(Date)
    # The enterprise the customer bound it for (the chat command's 税号), and the
    # tenant whose enterprise that is, settled when it was bound: a tax id may be
    # in several tenants, and a tenant that adds one later gets no binding by it.
    tax_id: Mapped[str | None] = mapped_column(String(18))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    # When it was bound for that tenant: the tenant sees the SMS it received
    # from then on, not those of whoever had it before. None on a binding made
    # before this was kept: from ever.
    bound_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The query page's PIN for this number, argon2-hashed; and its lockout.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Customer(Base):
    """Whom the number side sold sub-numbers to; signs with appKey/appSecret."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    app_key: Mapped[str] = mapped_column(String(64), unique=True)
    app_secret_sealed: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
