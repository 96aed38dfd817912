"""Binding a sub-number to a customer, its real phone and enterprise; the warnings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.accounts.service import Registry
from banshui.audit.models import AuditEntry
from banshui.core.clock import ManualClock
from banshui.demo.cast import ZHANG_SAN, seed_banshui
from banshui.numbers.binding import (
    BoundElsewhere,
    NotASubNumber,
    SameAsBoundPhone,
    bind,
    ending_soon,
    list_numbers,
    service_warning,
    set_service_end,
    unbind,
)
from banshui.numbers.customers import NewCustomer
from banshui.runtime import Runtime
from chat.world import (
    REAL_PHONE,
    SUB_NUMBER,
    TAX_ID,
    audit_actions,
    fresh_runtime,
    new_customer,
    number_row,
)

TODAY = date(2026, 12, 3)


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    async with fresh_runtime(tmp_path, database_url) as made:
        yield made


@pytest.fixture
async def customer(runtime: Runtime) -> NewCustomer:
    return await new_customer(runtime)


async def _bind(
    runtime: Runtime, customer: NewCustomer, number: str = SUB_NUMBER
) -> None:
    await bind(
        runtime.db,
        runtime.clock,
        number=number,
        customer_id=customer.customer.id,
        bound_phone=REAL_PHONE,
        tax_id=TAX_ID,
        tenant_id=None,
        actor="test",
    )


async def _ends(runtime: Runtime, number: str, ends_on: date | None) -> None:
    await set_service_end(
        runtime.db, runtime.clock, number=number, ends_on=ends_on, actor="test"
    )


async def test_binding_makes_the_sub_number_with_its_provider(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bind(runtime, customer, "+86 131 8888 8888")

    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None
    assert (row.is_sub_number, row.provider, row.customer_id) == (
        True,
        "banshui",
        customer.customer.id,
    )
    assert (row.bound_phone, row.tax_id) == (REAL_PHONE, TAX_ID)


async def test_unbinding_clears_customer_phone_and_tax_id_but_keeps_service_end(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bind(runtime, customer)
    await _ends(runtime, SUB_NUMBER, date(2027, 6, 30))

    previous = await unbind(runtime.db, runtime.clock, number=SUB_NUMBER, actor="test")

    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None
    assert (row.customer_id, row.bound_phone, row.tax_id) == (None, None, None)
    assert row.service_ends_on == date(2027, 6, 30)
    assert previous.customer == "示例号商"


async def test_every_binding_change_is_audited_and_a_repeat_is_not(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bind(runtime, customer)
    await _bind(runtime, customer)
    await unbind(runtime.db, runtime.clock, number=SUB_NUMBER, actor="test")

    actions = [a for _, a, _ in await audit_actions(runtime) if a.startswith("number")]
    assert actions == ["number.bound", "number.unbound"]


async def test_the_audit_line_masks_the_real_phone(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bind(runtime, customer)

    async with runtime.db.session() as session:
        details = list(await session.scalars(select(AuditEntry.detail)))
    assert all(REAL_PHONE not in (detail or "") for detail in details)


async def test_a_sub_number_bound_to_another_customer_is_not_moved(
    runtime: Runtime, customer: NewCustomer
) -> None:
    other = await new_customer(runtime, "另一号商")
    await _bind(runtime, customer)

    with pytest.raises(BoundElsewhere):
        await _bind(runtime, other)

    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None and row.customer_id == customer.customer.id


async def test_a_number_recorded_as_a_real_phone_cannot_be_bound(
    runtime: Runtime, customer: NewCustomer
) -> None:
    seeded = await seed_banshui(runtime)
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    persons = await _persons(runtime, seeded.tenant_id)
    await registry.give_number(
        persons[ZHANG_SAN.name], "13800138001", is_sub_number=False, actor="test"
    )

    with pytest.raises(NotASubNumber):
        await _bind(runtime, customer, "13800138001")


async def test_a_sub_number_cannot_be_bound_to_itself(
    runtime: Runtime, customer: NewCustomer
) -> None:
    with pytest.raises(SameAsBoundPhone):
        await _bind(runtime, customer, REAL_PHONE)

    assert await number_row(runtime, REAL_PHONE) is None


@pytest.mark.parametrize(
    ("ends_on", "warning"),
    [
        (None, None),
        (date(2027, 1, 3), None),  # 31 days ahead
        (date(2027, 1, 2), "服务 30 天后到期"),
        (date(2026, 12, 4), "服务 1 天后到期"),
        (TODAY, "服务今天到期"),
        (date(2026, 11, 30), "服务已过期 3 天"),
    ],
)
def test_the_warning_starts_thirty_days_before_the_service_ends(
    ends_on: date | None, warning: str | None
) -> None:
    assert service_warning(ends_on, TODAY, within_days=30) == warning


async def test_ending_soon_lists_only_numbers_within_the_days_given(
    runtime: Runtime, customer: NewCustomer
) -> None:
    for number, ends_on in [
        ("13188888881", date(2026, 12, 10)),
        ("13188888882", date(2027, 3, 1)),
        ("13188888883", None),
        ("13188888884", date(2026, 12, 1)),
    ]:
        await _bind(runtime, customer, number)
        await _ends(runtime, number, ends_on)

    soon = await ending_soon(runtime.db, runtime.clock)
    wider = await ending_soon(runtime.db, runtime.clock, within_days=100)

    assert [v.number for v in soon] == ["13188888881", "13188888884"]
    assert [v.days_left for v in soon] == [7, -2]
    assert len(wider) == 3
    assert len(await list_numbers(runtime.db, runtime.clock)) == 4


async def test_the_warning_counts_days_in_shanghai(
    tmp_path: Path, database_url: str
) -> None:
    # 2026-12-03 16:30 UTC is already 12-04 00:30 in Shanghai.
    late = ManualClock(datetime.fromisoformat("2026-12-03T16:30:00+00:00"))
    async with fresh_runtime(tmp_path, database_url, late) as runtime:
        made = await new_customer(runtime)
        await _bind(runtime, made)
        await _ends(runtime, SUB_NUMBER, date(2026, 12, 4))

        [view] = await ending_soon(runtime.db, runtime.clock)

    assert view.warning == "服务今天到期"


async def _persons(runtime: Runtime, tenant_id: int) -> dict[str, int]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(Person.name, Person.id).where(Person.tenant_id == tenant_id)
        )
        return {name: person_id for name, person_id in rows}
