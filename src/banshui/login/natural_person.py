"""The natural person (自然人) behind a person row, for R4's lanes.

The bureau knows a person by their ID number. Two tenants may each enrol the
same person; at the bureau it is one person, whose second login in a region
ends the first (R4). So a lane is keyed on the natural person: the first row
enrolled with that ID number stands for all of them. Sessions stay with their
own row: a tenant is never handed a session another tenant's account opened.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banshui.accounts.models import Person
from banshui.core.db import Database


async def lane_person_id(db: Database, person_id: int) -> int:
    """The row that stands for this person's natural person in every lane."""
    return await db.run_read(lambda session: lane_person_of(session, person_id))


def lane_person_of(session: Session, person_id: int) -> int:
    """``lane_person_id`` inside a read of the caller's."""
    same_human = select(Person.id_number).where(Person.id == person_id)
    first = session.scalar(
        select(func.min(Person.id)).where(
            Person.id_number == same_human.scalar_subquery()
        )
    )
    return int(first) if first is not None else person_id
