"""R1: a number belongs to exactly one person; giving it to another moves it."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from banshui.accounts.models import Account, Person, PersonNumber
from banshui.accounts.service import Registry, Service
from banshui.audit.models import AuditEntry
from banshui.core.errors import InvalidInput
from banshui.demo.cast import LI_SI, ZHANG_SAN, A
from banshui.numbers.models import Number
from conftest import Stack

from .conftest import ON_MODULE_LOOP
from .rows import count

pytestmark = ON_MODULE_LOOP

RECEIVE_A = [Service(A.tax_id, "03", "receive", is_default=True)]
# The module shares one database, so each test takes sub-numbers of its own.
_NUMBERS = (f"1991234{serial:04d}" for serial in itertools.count(100))


@pytest.fixture
def number() -> str:
    return next(_NUMBERS)


async def _zhang_and_li(registry: Registry, tenant_id: int) -> tuple[Person, Person]:
    zhang = await registry.add_person(
        tenant_id, ZHANG_SAN.name, ZHANG_SAN.id_number, ZHANG_SAN.password
    )
    li = await registry.add_person(
        tenant_id, LI_SI.name, LI_SI.id_number, LI_SI.password
    )
    return zhang, li


async def _owners(server: Stack, msisdn: str) -> list[int]:
    async with server.runtime.db.session() as session:
        rows = await session.scalars(
            select(PersonNumber.person_id)
            .join(Number, Number.id == PersonNumber.number_id)
            .where(Number.msisdn == msisdn)
        )
        return list(rows)


async def _audited(server: Stack, action: str, msisdn: str) -> list[AuditEntry]:
    async with server.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == action, AuditEntry.subject == f"number:{msisdn}"
            )
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_giving_zhangs_number_to_li_moves_it_leaving_one_owner(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    zhang, li = await _zhang_and_li(registry, tenant_id)
    await registry.give_number(zhang.id, number)

    await registry.give_number(li.id, number)

    assert await _owners(server, number) == [li.id]


async def test_the_move_is_audited_with_both_owners(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    zhang, li = await _zhang_and_li(registry, tenant_id)
    await registry.give_number(zhang.id, number, actor="operator:王五")

    await registry.give_number(li.id, number, actor="operator:王五")

    [moved] = await _audited(server, "number.owner_moved", number)
    assert moved.actor == "operator:王五"
    assert moved.detail == f"person:{zhang.id} -> person:{li.id}"
    assert len(await _audited(server, "number.owner_set", number)) == 1


async def test_giving_a_number_to_its_owner_again_records_no_move(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    zhang, _li = await _zhang_and_li(registry, tenant_id)
    await registry.give_number(zhang.id, number)

    await registry.give_number(zhang.id, number)

    assert await _owners(server, number) == [zhang.id]
    assert await _audited(server, "number.owner_moved", number) == []


async def test_the_number_is_given_in_any_form_but_stored_once(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    zhang, li = await _zhang_and_li(registry, tenant_id)
    await registry.give_number(zhang.id, number)

    await registry.give_number(li.id, f"+86 {number[:3]} {number[3:7]} {number[7:]}")

    assert await _owners(server, number) == [li.id]


async def test_an_account_cannot_be_added_on_a_number_the_person_does_not_own(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    await registry.add_enterprise(tenant_id, A.tax_id, A.name)
    zhang, li = await _zhang_and_li(registry, tenant_id)
    await registry.give_number(li.id, number)
    before = await count(server.runtime, Account)

    with pytest.raises(InvalidInput) as refused:
        await registry.add_account(tenant_id, zhang.id, number, RECEIVE_A)

    assert refused.value.field == "account"
    assert await count(server.runtime, Account) == before


async def test_after_the_move_the_account_goes_with_the_new_owner(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    await registry.add_enterprise(tenant_id, A.tax_id, A.name)
    zhang, li = await _zhang_and_li(registry, tenant_id)
    await registry.give_number(zhang.id, number)
    await registry.give_number(li.id, number)

    with pytest.raises(InvalidInput):
        await registry.add_account(tenant_id, zhang.id, number, RECEIVE_A)
    account = await registry.add_account(tenant_id, li.id, number, RECEIVE_A)

    assert account.person_id == li.id


async def test_an_account_on_a_number_nobody_was_given_is_refused(
    server: Stack, registry: Registry, tenant_id: int, number: str
) -> None:
    await registry.add_enterprise(tenant_id, A.tax_id, A.name)
    zhang, _li = await _zhang_and_li(registry, tenant_id)
    before = await count(server.runtime, Account)

    with pytest.raises(InvalidInput) as refused:
        await registry.add_account(tenant_id, zhang.id, number, RECEIVE_A)

    assert refused.value.field == "account"
    assert await count(server.runtime, Account) == before
