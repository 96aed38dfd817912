"""Writing to the audit log inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from banshui.audit.models import AuditEntry
from banshui.core.clock import Clock


def record(
    session: AsyncSession,
    clock: Clock,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: str | None = None,
) -> None:
    """Add an entry; it commits with the change it describes, or not at all."""
    session.add(
        AuditEntry(
            at=clock.now(), actor=actor, action=action, subject=subject, detail=detail
        )
    )
