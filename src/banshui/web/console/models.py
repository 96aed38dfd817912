"""What the console records that no other part keeps yet: a region's bureau that
refused to add a sub-number (R10), so the onboarding checklist can say to add it
through another region."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class PortalRefusal(Base):
    """A bureau that refused to add the number (Shanghai's real-name check)."""

    __tablename__ = "portal_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_id: Mapped[int] = mapped_column(
        ForeignKey("numbers.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(4))
    noted_by: Mapped[str] = mapped_column(String(200))
    noted_at: Mapped[datetime] = mapped_column(UtcDateTime)
