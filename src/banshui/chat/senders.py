"""The allow-list of chat senders: only they may command the robot."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from banshui.audit.log import record
from banshui.chat.models import ChatSender
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import InvalidInput, NotFound
from banshui.core.upsert import insert_ignoring_conflict

MAX_SENDER = 200


@dataclass(frozen=True, slots=True)
class Allowed:
    sender: str
    new: bool  # False when the sender was allowed already


def validate_sender(value: str, field: str = "sender") -> str:
    sender = value.strip()
    if not 1 <= len(sender) <= MAX_SENDER:
        raise InvalidInput(f"must be 1–{MAX_SENDER} characters", field=field)
    return sender


async def allow(db: Database, clock: Clock, sender: str, actor: str) -> Allowed:
    """Allow a sender; allowing one twice is no error and no second entry."""
    sender = validate_sender(sender)
    values = {"sender": sender, "allowed_by": actor, "allowed_at": clock.now()}

    async with db.transaction() as session:
        new = await insert_ignoring_conflict(session, ChatSender, values) is not None
        if new:
            record(
                session,
                clock,
                actor=actor,
                action="chat.sender_allowed",
                subject=sender,
            )
    return Allowed(sender=sender, new=new)


async def deny(db: Database, clock: Clock, sender: str, actor: str) -> None:
    sender = validate_sender(sender)

    async with db.transaction() as session:
        removed = await session.execute(
            delete(ChatSender)
            .where(ChatSender.sender == sender)
            .returning(ChatSender.id)
        )
        if removed.first() is None:
            raise NotFound(f"{sender!r} is not an allowed sender", field="sender")
        record(session, clock, actor=actor, action="chat.sender_denied", subject=sender)


async def is_allowed(db: Database, sender: str) -> bool:
    async with db.session() as session:
        found = await session.scalar(
            select(ChatSender.id).where(ChatSender.sender == sender.strip())
        )
    return found is not None


async def list_senders(db: Database) -> list[ChatSender]:
    async with db.session() as session:
        found = await session.scalars(select(ChatSender).order_by(ChatSender.sender))
        return list(found)
