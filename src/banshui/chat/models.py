"""Who may give the chat robot commands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class ChatSender(Base):
    """A sender the robot obeys, as the chat platform names them (allow-list)."""

    __tablename__ = "chat_senders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(200), unique=True)
    allowed_by: Mapped[str] = mapped_column(String(200))
    allowed_at: Mapped[datetime] = mapped_column(UtcDateTime)
