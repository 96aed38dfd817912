"""A number the bureau shows has moved to someone else (R1, DESIGN §5.11).

The sign: logging in with it is refused as a wrong account or an unknown user
(2035, 2059) while another number of the same person logs in with the same
password. The registry then stops giving it to that person, and says why.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from banshui.accounts.models import PersonNumber
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.drivers.base import BureauError
from banshui.numbers.models import Number
from banshui.numbers.phones import mask

MOVED_AT_BUREAU = "number.owner_moved_at_bureau"


async def forget_moved_number(
    db: Database,
    clock: Clock,
    *,
    person_id: int,
    number: str,
    refusal: BureauError,
    working: str,
) -> bool:
    """Take the number from the person, audited; False if it was not theirs."""
    evidence = (
        f"person:{person_id}: the bureau refused {mask(number)} "
        f"({refusal.code or refusal.failure.value} {refusal.message}) while "
        f"{mask(working)} logged in with the same password"
    )
    async with db.transaction() as session:
        number_id = await session.scalar(
            select(Number.id).where(Number.msisdn == number)
        )
        if number_id is None:
            return False
        removed = await session.execute(
            delete(PersonNumber).where(
                PersonNumber.number_id == number_id,
                PersonNumber.person_id == person_id,
            )
        )
        if not removed.rowcount:  # type: ignore[attr-defined]
            return False
        record(
            session,
            clock,
            actor="engine",
            action=MOVED_AT_BUREAU,
            subject=f"number:{number}",
            detail=evidence,
        )
    return True
