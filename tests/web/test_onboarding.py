"""The onboarding checklist's "added at the bureau" step is an operator's tick:
the bureau cannot be asked. The tick holds for the person it was made for."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.accounts.service import Registry
from banshui.audit.models import AuditEntry
from banshui.demo.cast import LI_SI, S2, ZHANG_SAN
from banshui.numbers.models import Number

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
MOVING_NUMBER = "13288888888"
CONFIRMED = {"not_default": "on", "face_checked": "on"}


async def number_id(sandbox: Sandbox, msisdn: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(select(Number.id).where(Number.msisdn == msisdn))
    assert found is not None
    return found


async def person_id(sandbox: Sandbox, name: str) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == name))
    assert found is not None
    return found


def card_of(page: str, number: int) -> str:
    start = page.index(f'id="n-{number}"')
    end = page.find('class="number-card"', start)
    return page[start : end if end != -1 else len(page)]


def step(page: str, number: int, key: str) -> str:
    """The class of a step of the number's checklist: done, warn or empty."""
    found = re.search(rf'<li class="([^"]*)" data-step="{key}">', card_of(page, number))
    assert found is not None, f"no step {key}"
    return found.group(1)


async def give(sandbox: Sandbox, person: str, msisdn: str) -> None:
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.give_number_in_tenant(
        sandbox.tenant_id,
        await person_id(sandbox, person),
        msisdn,
        default_at_bureau=False,
        is_sub_number=True,
        actor="test",
    )


async def test_an_owned_number_waits_for_the_operators_tick(
    sandbox: Sandbox, cast: Cast
) -> None:
    s2 = await number_id(sandbox, S2)
    zhang = await person_id(sandbox, ZHANG_SAN.name)
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        before = await console.get("/persons")
        ticked = await console.post(
            f"/numbers/{s2}/added", CONFIRMED | {"person_id": str(zhang)}
        )
        after = await console.get("/persons")

    assert step(before.text, s2, "added") == ""
    assert f'action="/numbers/{s2}/added"' in card_of(before.text, s2)
    assert ticked.status_code == 303
    assert step(after.text, s2, "added") == "done"
    assert f"{cast.operator} 于" in card_of(after.text, s2)
    assert f'action="/numbers/{s2}/added"' not in card_of(after.text, s2)
    async with sandbox.stack.runtime.db.session() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "number.added_at_bureau")
        )
    assert entry is not None and entry.subject == f"number:{S2}"
    assert entry.actor == f"console:{cast.operator}" and entry.client == "127.0.0.1"


async def test_a_tick_needs_both_the_default_phone_and_the_face_check(
    sandbox: Sandbox, cast: Cast
) -> None:
    await give(sandbox, ZHANG_SAN.name, "13388888888")
    number = await number_id(sandbox, "13388888888")
    zhang = await person_id(sandbox, ZHANG_SAN.name)
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        refused = await console.post(
            f"/numbers/{number}/added", {"not_default": "on", "person_id": str(zhang)}
        )
        page = await console.get("/persons")

    assert refused.status_code == 422 and "人脸认证" in refused.text
    assert step(page.text, number, "added") == ""


async def test_a_tick_holds_for_its_person_only(sandbox: Sandbox, cast: Cast) -> None:
    await give(sandbox, ZHANG_SAN.name, MOVING_NUMBER)
    number = await number_id(sandbox, MOVING_NUMBER)
    zhang = await person_id(sandbox, ZHANG_SAN.name)
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        await console.post(
            f"/numbers/{number}/added", CONFIRMED | {"person_id": str(zhang)}
        )
        ticked = await console.get("/persons")
        await give(sandbox, LI_SI.name, MOVING_NUMBER)  # R1: it leaves 张三
        moved = await console.get("/persons")

    assert step(ticked.text, number, "added") == "done"
    assert step(moved.text, number, "added") == ""
    li = moved.text.index(f'id="p-{await person_id(sandbox, LI_SI.name)}"')
    assert moved.text.index(f'id="n-{number}"') > li  # shown under 李四 now


async def test_a_viewer_sees_the_checklist_but_no_tick(
    sandbox: Sandbox, cast: Cast
) -> None:
    await give(sandbox, ZHANG_SAN.name, "13488888888")
    number = await number_id(sandbox, "13488888888")
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        page = await console.get("/persons")

    assert step(page.text, number, "added") == ""
    assert "/added" not in page.text and "测试登录</button>" not in page.text
