"""Tables of the engine: login requests, their timeline and bureau sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class LoginRequest(Base):
    """ "Log enterprise X in for business Y": durable, followed by status."""

    __tablename__ = "login_requests"
    __table_args__ = (
        Index("ix_login_requests_status", "status"),
        # A tenant's logins, newest first, a page at a time (GET /api/v1/logins).
        Index("ix_login_requests_tenant_created", "tenant_id", "created_at", "id"),
        # R4 held by the database itself: one request at a time holds a lane,
        # whichever process serves it.
        Index(
            "uq_login_requests_lane",
            "person_id",
            "region",
            unique=True,
            sqlite_where=text("holds_lane"),
            postgresql_where=text("holds_lane"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    tax_id: Mapped[str] = mapped_column(String(18))
    business: Mapped[str] = mapped_column(String(10))
    requested_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    region: Mapped[str | None] = mapped_column(String(4))
    number: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sms_used: Mapped[int] = mapped_column(Integer, default=0)
    switched: Mapped[bool] = mapped_column(Boolean, default=False)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("bureau_sessions.id"))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # While waiting_person: what the person is to do (code, face_check, identity,
    # slider); a code they typed waits here, sealed, until the engine takes it.
    waiting_for: Mapped[str | None] = mapped_column(String(20))
    typed_code_sealed: Mapped[str | None] = mapped_column(Text)
    # The engine process serving it (an ``EngineWorker``), from its claim on.
    worker_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # From taking its lane (通道) until its lease ends or it fails.
    holds_lane: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EngineWorker(Base):
    """A running engine, in a ``serve`` or ``worker`` process; seen while it lives.

    Requests in flight whose worker has not been seen for a while are taken up
    again by another (its process stopped or lost the database).
    """

    __tablename__ = "engine_workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # host and process id
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginEvent(Base):
    """One step of a login request's timeline."""

    __tablename__ = "login_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login_id: Mapped[str] = mapped_column(ForeignKey("login_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)


class BureauSession(Base):
    """A live (or once live) session at the bureau for one lane; cookies sealed."""

    __tablename__ = "bureau_sessions"
    __table_args__ = (Index("ix_bureau_sessions_lane", "person_id", "region", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    region: Mapped[str] = mapped_column(String(4))
    number: Mapped[str] = mapped_column(String(11))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    identity_code: Mapped[str] = mapped_column(String(2))
    base_url: Mapped[str] = mapped_column(String(500))
    cookies_sealed: Mapped[str] = mapped_column(Text)
    # live, dropped (found dead) or ended (replaced by a newer one).
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SpentNumber(Base):
    """A number the bureau refused a code for today: it is spent until tomorrow."""

    __tablename__ = "spent_numbers"
    __table_args__ = (UniqueConstraint("number", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(11))
    day: Mapped[date] = mapped_column(Date)


class RestingNumber(Base):
    """A number whose awaited code never came: no new code until ``until``.

    A late code may still arrive for the login that gave up; while it may, no
    other login asks for a code on that number, so the late one is never taken
    for theirs.
    """

    __tablename__ = "resting_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(11), index=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
