"""A tenant's login requests, newest first, a page at a time.

Pages are cut by keyset on ``(created_at, id)``, not by offset: a login created
while a caller walks the pages is newer than every page already cut, so it
neither shifts a later page nor shows twice. The cursor that carries the place
is opaque to the caller; it names only a moment and an id, and the tenant is
always the key's, so a cursor made up or taken from another tenant shows
nothing more than the key's own logins.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from banshui.accounts.identity import validate_business
from banshui.accounts.uscc import validate_tax_id
from banshui.core.db import Database
from banshui.core.errors import InvalidInput
from banshui.login.models import LoginRequest

_LOGIN_ID = re.compile(r"[0-9a-f]{32}")
_BAD_CURSOR = "cursor: not one this API gave; pass next_cursor back as it came"


@dataclass(frozen=True)
class LoginFilter:
    """Which logins a listing shows; an empty or None criterion takes all."""

    statuses: Collection[str] = ()
    tax_id: str | None = None
    business: str | None = None
    created_after: datetime | None = None  # included
    created_before: datetime | None = None  # excluded


@dataclass(frozen=True)
class Place:
    """Where a page ended: its last login's creation time and id."""

    created_at: datetime
    login_id: str


@dataclass(frozen=True)
class LoginPage:
    logins: list[LoginRequest]
    next: Place | None  # None: no older login matches


def login_filter(
    statuses: Collection[str] = (),
    tax_id: str | None = None,
    business: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> LoginFilter:
    """The filter, its tax id compact and its window in UTC; refused by field."""
    after = _utc(created_after, "created_after")
    before = _utc(created_before, "created_before")
    if after is not None and before is not None and before <= after:
        raise InvalidInput(
            "created_before: must be later than created_after", field="created_before"
        )
    return LoginFilter(
        statuses=tuple(statuses),
        tax_id=validate_tax_id(tax_id) if tax_id is not None else None,
        business=validate_business(business) if business is not None else None,
        created_after=after,
        created_before=before,
    )


async def list_logins(
    db: Database,
    tenant_id: int,
    wanted: LoginFilter,
    limit: int,
    after: Place | None = None,
) -> LoginPage:
    """Up to ``limit`` of the tenant's logins older than ``after``, in one query."""
    # One more than asked: whether it comes says if another page follows.
    query = _selected(tenant_id, wanted, after).limit(limit + 1)

    def read(session: Session) -> list[LoginRequest]:
        return list(session.scalars(query))

    found = await db.run_read(read)
    page = found[:limit]
    if len(found) <= limit:
        return LoginPage(page, None)
    return LoginPage(page, Place(page[-1].created_at, page[-1].id))


def encode_cursor(place: Place) -> str:
    raw = json.dumps([place.created_at.isoformat(), place.login_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Place:
    """The place a cursor of ``encode_cursor`` names; anything else is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, login_id = json.loads(raw)
        created_at = datetime.fromisoformat(at)
        if created_at.tzinfo is None or not _LOGIN_ID.fullmatch(login_id):
            raise ValueError("not a place encode_cursor gives")
        return Place(created_at.astimezone(UTC), login_id)
    except (binascii.Error, ValueError, TypeError, OverflowError):
        raise InvalidInput(_BAD_CURSOR, field="cursor") from None


def _selected(
    tenant_id: int, wanted: LoginFilter, after: Place | None
) -> Select[LoginRequest]:
    query = select(LoginRequest).where(LoginRequest.tenant_id == tenant_id)
    for criterion in _criteria(wanted):
        query = query.where(criterion)
    if after is not None:
        query = query.where(_older_than(after))
    return query.order_by(LoginRequest.created_at.desc(), LoginRequest.id.desc())


def _criteria(wanted: LoginFilter) -> list[ColumnElement[bool]]:
    criteria: list[ColumnElement[bool]] = []
    if wanted.statuses:
        criteria.append(LoginRequest.status.in_(wanted.statuses))
    if wanted.tax_id is not None:
        criteria.append(LoginRequest.tax_id == wanted.tax_id)
    if wanted.business is not None:
        criteria.append(LoginRequest.business == wanted.business)
    if wanted.created_after is not None:
        criteria.append(LoginRequest.created_at >= wanted.created_after)
    if wanted.created_before is not None:
        criteria.append(LoginRequest.created_at < wanted.created_before)
    return criteria


def _older_than(place: Place) -> ColumnElement[bool]:
    # Spelt out rather than as a row value: the bound on created_at alone is
    # a range an index on (tenant_id, created_at, id) serves on both databases.
    return and_(
        LoginRequest.created_at <= place.created_at,
        or_(
            LoginRequest.created_at < place.created_at,
            LoginRequest.id < place.login_id,
        ),
    )


def _utc(moment: datetime | None, field: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidInput(f"{field}: must give its offset", field=field)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:00:00-05:00 is a time, but not one a UTC datetime holds.
        raise InvalidInput(f"{field}: out of the range of times", field=field) from None
