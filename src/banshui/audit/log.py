"""Writing to the audit log inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banshui.audit.models import AuditEntry
from banshui.core.addresses import current_client
from banshui.core.clock import Clock


def record(
    session: AsyncSession | Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: str | None = None,
) -> None:
    """Add an entry; it commits with the change it describes, or not at all.

    It notes the address of the request that led to it (None for the engine's own
    rounds): work a request starts in a task carries the request's context along.
    """
    session.add(
        AuditEntry(
            at=clock.now(),
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
            client=current_client(),
        )
    )
