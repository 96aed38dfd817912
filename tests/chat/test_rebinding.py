"""绑定小号 never silently moves a sub-number off a person's phone or onto a 小号."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select

from banshui.audit.models import AuditEntry
from banshui.chat.commands import answer
from banshui.demo.cast import S1, ZHANG_SAN, seed_banshui
from banshui.numbers.customers import NewCustomer
from banshui.runtime import Runtime

from .world import (
    REAL_PHONE,
    SUB_NUMBER,
    TAX_ID,
    banshui_cli,
    bind_text,
    number_row,
    row_counts,
)

OTHER_PHONE = "13900139000"
OTHER_TAX_ID = "91420100MA4KC0030Q"  # 湖北, a valid USCC


async def _bound(runtime: Runtime, customer: NewCustomer) -> None:
    assert (await answer(runtime, bind_text(customer), actor="test")).ok


async def test_binding_a_bound_sub_number_to_another_real_phone_is_refused(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bound(runtime, customer)
    before = await row_counts(runtime)

    replied = await answer(
        runtime, bind_text(customer, real_phone=OTHER_PHONE), actor="test"
    )

    assert not replied.ok
    assert "138****8000" in replied.text and f"解绑小号#{SUB_NUMBER}" in replied.text
    assert REAL_PHONE not in replied.text
    assert await row_counts(runtime) == before
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None and row.bound_phone == REAL_PHONE


async def test_binding_a_bound_sub_number_for_another_enterprise_is_refused(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bound(runtime, customer)

    replied = await answer(
        runtime, bind_text(customer, tax_id=OTHER_TAX_ID), actor="test"
    )

    assert not replied.ok
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None and row.tax_id == TAX_ID


async def test_an_explicit_replace_changes_the_binding_and_audits_what_it_was(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bound(runtime, customer)

    replied = await answer(
        runtime,
        bind_text(customer, real_phone=OTHER_PHONE),
        actor="运维小王",
        replace=True,
    )

    assert replied.ok and replied.changed
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None and row.bound_phone == OTHER_PHONE
    async with runtime.db.session() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "number.rebound")
        )
    assert entry is not None and entry.actor == "运维小王"
    assert "139****9000" in (entry.detail or "")
    assert "was phone:138****8000" in (entry.detail or "")
    assert REAL_PHONE not in (entry.detail or "")


async def test_unbinding_first_lets_the_robot_bind_another_real_phone(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bound(runtime, customer)

    unbound = await answer(runtime, f"解绑小号#{SUB_NUMBER}", actor="test")
    rebound = await answer(
        runtime, bind_text(customer, real_phone=OTHER_PHONE), actor="test"
    )

    assert unbound.ok and rebound.ok
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None and row.bound_phone == OTHER_PHONE


async def test_a_sub_number_cannot_be_the_real_phone_of_another_sub_number(
    runtime: Runtime, customer: NewCustomer
) -> None:
    await _bound(runtime, customer)
    before = await row_counts(runtime)

    replied = await answer(
        runtime,
        bind_text(customer, sub_number="13188880000", real_phone=SUB_NUMBER),
        actor="test",
    )

    assert not replied.ok
    assert "是小号" in replied.text
    assert await row_counts(runtime) == before
    assert await number_row(runtime, "13188880000") is None


async def test_a_persons_real_phone_cannot_be_bound_as_a_sub_number(
    runtime: Runtime, customer: NewCustomer
) -> None:
    # The cast's S1 forwards to 张三's handset: that handset is no 小号.
    await seed_banshui(runtime)
    before = await row_counts(runtime)

    replied = await answer(
        runtime,
        bind_text(customer, sub_number=ZHANG_SAN.real_phone, real_phone=OTHER_PHONE),
        actor="test",
    )

    assert not replied.ok
    assert "不是小号" in replied.text
    assert await row_counts(runtime) == before
    assert await number_row(runtime, ZHANG_SAN.real_phone) is None


async def test_a_cast_sub_number_keeps_its_real_phone_unless_replaced(
    runtime: Runtime, customer: NewCustomer
) -> None:
    # The login side recorded S1's real phone; a customer binding S1 to
    # another phone would take 张三's codes away from him.
    await seed_banshui(runtime)

    replied = await answer(
        runtime,
        bind_text(customer, sub_number=S1, real_phone=OTHER_PHONE),
        actor="test",
    )

    assert not replied.ok
    row = await number_row(runtime, S1)
    assert row is not None and row.bound_phone == ZHANG_SAN.real_phone


async def test_banshui_bind_replaces_only_with_replace(
    tmp_path: Path, database_url: str, runtime: Runtime, customer: NewCustomer
) -> None:
    await _bound(runtime, customer)
    text = bind_text(customer, real_phone=OTHER_PHONE)

    refused = await asyncio.to_thread(
        banshui_cli, tmp_path, database_url, "bind", text, "--json"
    )
    replaced = await asyncio.to_thread(
        banshui_cli, tmp_path, database_url, "bind", text, "--replace", "--json"
    )

    assert refused.returncode == 1
    assert json.loads(refused.stdout)["ok"] is False
    assert replaced.returncode == 0, replaced.stderr
    answered = json.loads(replaced.stdout)
    assert (answered["ok"], answered["changed"]) == (True, True)
    row = await number_row(runtime, SUB_NUMBER)
    assert row is not None and row.bound_phone == OTHER_PHONE
