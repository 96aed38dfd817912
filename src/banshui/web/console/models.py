"""What the console records that no other part keeps: an operator's word that a
person added a number at the bureau (R15: the bureau cannot be asked), and a
region's bureau that refused to add it (R10), so the onboarding checklist can say
to add it through another region."""

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


class BureauAddition(Base):
    """An operator ticked that the person added the number at the bureau, through
    the natural-person portal with 默认手机号 = 否 and the face check (R15)."""

    __tablename__ = "bureau_additions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_id: Mapped[int] = mapped_column(
        ForeignKey("numbers.id", ondelete="CASCADE"), index=True
    )
    # The tick holds for this person only: a number moved on (R1) needs a new one.
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    noted_by: Mapped[str] = mapped_column(String(200))
    noted_at: Mapped[datetime] = mapped_column(UtcDateTime)
