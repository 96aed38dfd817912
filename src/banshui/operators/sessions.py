"""Console sessions: a random token in a signed cookie, its hash in the database.

Keeping the session server-side lets signing out, a lockout or an idle time-out
end it for good; the signature lets a forged cookie be turned away before the
database is asked. Each session has its own CSRF token for every form it posts.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.operators.models import Operator, OperatorSession

COOKIE = "banshui_console"
SIGN_IN_COOKIE = "banshui_sign_in"
LIFETIME = timedelta(hours=12)
IDLE = timedelta(hours=1)
# Seen again within this, a session's last-seen time is not rewritten.
SEEN_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class Current:
    operator: Operator
    csrf_token: str


class Cookies:
    """Signs and checks the console's cookies with a key of their own."""

    def __init__(self, secret_key: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"banshui console cookies",
        ).derive(secret_key)
        self._sessions = URLSafeTimedSerializer(key, salt="session")
        self._sign_in = URLSafeTimedSerializer(key, salt="sign-in-form")

    def session_cookie(self, token: str) -> str:
        return self._sessions.dumps(token)

    def session_token(self, cookie: str) -> str | None:
        return _loaded(self._sessions, cookie, LIFETIME)

    def sign_in_cookie(self, csrf_token: str) -> str:
        """The sign-in form's CSRF token, before there is a session to hold it."""
        return self._sign_in.dumps(csrf_token)

    def sign_in_token(self, cookie: str) -> str | None:
        return _loaded(self._sign_in, cookie, timedelta(hours=1))


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def open_session(
    db: Database, clock: Clock, cookies: Cookies, operator: Operator
) -> NewSession:
    token, csrf_token = new_token(), new_token()
    now = clock.now()
    async with db.transaction() as session:
        # Each sign-in also sweeps the sessions that ran out.
        await session.execute(
            delete(OperatorSession).where(OperatorSession.expires_at <= now)
        )
        session.add(
            OperatorSession(
                token_hash=_hash(token),
                operator_id=operator.id,
                csrf_token=csrf_token,
                created_at=now,
                seen_at=now,
                expires_at=now + LIFETIME,
            )
        )
    return NewSession(cookie=cookies.session_cookie(token), csrf_token=csrf_token)


async def current_session(
    db: Database, clock: Clock, cookies: Cookies, cookie: str
) -> Current | None:
    """The operator signed in with this cookie; None when it ran out or is forged."""
    token = cookies.session_token(cookie)
    if token is None:
        return None

    now = clock.now()
    async with db.session() as session:
        row = await session.scalar(
            select(OperatorSession).where(OperatorSession.token_hash == _hash(token))
        )
        if row is None or row.expires_at <= now or row.seen_at + IDLE <= now:
            return None
        operator = await session.get(Operator, row.operator_id)
    # Read on every request, so a disabled operator is out at their next click.
    if operator is None or operator.disabled:
        return None

    # Written at most once a minute: most page views only read.
    if now - row.seen_at >= SEEN_GRANULARITY:
        async with db.transaction() as session:
            await session.execute(
                update(OperatorSession)
                .where(OperatorSession.id == row.id)
                .values(seen_at=now)
            )
    return Current(operator=operator, csrf_token=row.csrf_token)


async def end_session(db: Database, cookies: Cookies, cookie: str) -> None:
    token = cookies.session_token(cookie)
    if token is None:
        return
    async with db.transaction() as session:
        await session.execute(
            delete(OperatorSession).where(OperatorSession.token_hash == _hash(token))
        )


async def end_sessions(
    session: AsyncSession, operator_id: int, keep_token: str | None = None
) -> None:
    """End, in the caller's transaction, every session of the operator but one."""
    query = delete(OperatorSession).where(OperatorSession.operator_id == operator_id)
    if keep_token is not None:
        query = query.where(OperatorSession.token_hash != _hash(keep_token))
    await session.execute(query)


def _hash(token: str) -> str:
    # The token has 256 bits of entropy, so a plain hash is enough to store it.
    return hashlib.sha256(token.encode()).hexdigest()


def _loaded(
    serializer: URLSafeTimedSerializer, cookie: str, max_age: timedelta
) -> str | None:
    try:
        value = serializer.loads(cookie, max_age=int(max_age.total_seconds()))
    except BadSignature:
        return None
    return value if isinstance(value, str) else None
