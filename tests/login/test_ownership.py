"""R1 at the bureau (DESIGN §5.11): a number that moved to someone else is dropped."""

from __future__ import annotations

from sqlalchemy import select

from banshui.accounts.models import Person, PersonNumber
from banshui.accounts.service import Registry
from banshui.audit.models import AuditEntry
from banshui.demo.cast import LI_SI, S1, S2, ZHANG_SAN, A
from banshui.numbers.models import Number

from .conftest import (
    CastOn,
    Recorder,
    Sandbox,
    person_at_bureau,
    served,
    served_and_released,
)


async def _moved_at_bureau(sandbox: Sandbox, number: str) -> None:
    """李四 adds the number at the portal: the bureau takes it from 张三."""
    body = {"person_id": await person_at_bureau(sandbox, LI_SI), "phone": number}
    (await sandbox.stack.sim.post("/admin/phones", json=body)).raise_for_status()


async def _moved_entries(sandbox: Sandbox) -> list[AuditEntry]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "number.owner_moved_at_bureau"
            )
        )
        return list(rows)


async def _owner_of(sandbox: Sandbox, number: str) -> int | None:
    async with sandbox.stack.runtime.db.session() as session:
        return await session.scalar(
            select(PersonNumber.person_id)
            .join(Number, Number.id == PersonNumber.number_id)
            .where(Number.msisdn == number)
        )


async def test_a_number_the_bureau_shows_moved_is_dropped_and_the_next_one_used(
    cast_on: CastOn,
) -> None:
    events = Recorder()
    async with cast_on(events=events) as sandbox:
        await _moved_at_bureau(sandbox, S1)

        login = await served_and_released(sandbox, A)

        assert (login["status"], login["number"], login["sms_used"]) == (
            "succeeded",
            S2,
            1,
        )
        (entry,) = await _moved_entries(sandbox)
        assert entry.subject == f"number:{S1}"
        assert "2035" in (entry.detail or "") and "199****0002" in (entry.detail or "")
        (moved,) = events.of("number.moved")
        assert (moved["number"], moved["person"]) == (S1, ZHANG_SAN.name)
        assert await _owner_of(sandbox, S1) is None


async def test_a_number_dropped_for_its_old_owner_is_not_tried_again(
    cast_on: CastOn,
) -> None:
    async with cast_on() as sandbox:
        await _moved_at_bureau(sandbox, S1)
        await served_and_released(sandbox, A)
        body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
        await sandbox.stack.sim.post("/admin/sessions/drop", json=body)

        again = await served_and_released(sandbox, A)

        assert (again["number"], again["sms_used"]) == (S2, 1)
        assert len(await _moved_entries(sandbox)) == 1


async def test_a_password_every_number_refuses_fails_and_moves_nothing(
    cast_on: CastOn,
) -> None:
    async with cast_on() as sandbox:
        runtime = sandbox.stack.runtime
        async with runtime.db.session() as session:
            zhang = await session.scalar(
                select(Person.id).where(Person.name == ZHANG_SAN.name)
            )
        assert zhang is not None
        registry = Registry(runtime.db, runtime.vault, runtime.clock)
        await registry.set_password(zhang, "not-his-password", actor="test")

        login = await served(sandbox, A)

        assert login["status"] == "failed"
        assert login["reason"] == (
            "the bureau refused 张三's login with 199****0001 and its other "
            "numbers: 2035 账号或密码错误"
        )
        assert await _moved_entries(sandbox) == []
        assert await _owner_of(sandbox, S1) == zhang
