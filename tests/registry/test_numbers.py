"""A person's numbers through the API: R1 moves a number, R2 one password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from api.shape import assert_error
from banshui.accounts.models import Account, Person
from banshui.accounts.service import Registry
from banshui.audit.models import AuditEntry

from . import flows
from .cast import WANG_WU, ZHAO_LIU, E, fresh_number
from .conftest import ON_MODULE_LOOP, Caller

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = ON_MODULE_LOOP


async def _audited(server: Stack, action: str, subject: str) -> list[AuditEntry]:
    async with server.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.subject == subject
            )
        )
        return list(rows)


async def test_a_person_shows_their_numbers_with_the_default_flag_and_no_password(
    caller: Caller,
) -> None:
    wang = await flows.person(caller.http, WANG_WU)
    sub = fresh_number()
    await flows.give(caller.http, wang["id"], sub)
    shown = await flows.created(
        caller.http,
        f"/api/v1/persons/{wang['id']}/numbers",
        {
            "number": f"+86 {WANG_WU.real_phone}",
            "default_at_bureau": True,
            "is_sub_number": False,
        },
    )

    assert shown["numbers"] == sorted(
        [
            {"number": sub, "is_sub_number": True, "default_at_bureau": False},
            {
                "number": WANG_WU.real_phone,
                "is_sub_number": False,
                "default_at_bureau": True,
            },
        ],
        key=lambda held: held["number"],
    )
    assert shown["id_number_masked"] == "4403**********1234"
    assert set(shown) == {"id", "name", "id_number_masked", "numbers", "accounts"}


async def test_a_person_has_one_default_phone_at_the_bureau(caller: Caller) -> None:
    wang = await flows.person(caller.http, WANG_WU)
    first, second = fresh_number(), fresh_number()
    await flows.give(caller.http, wang["id"], first, default=True)

    shown = await flows.give(caller.http, wang["id"], second, default=True)

    defaults = {held["number"]: held["default_at_bureau"] for held in shown["numbers"]}
    assert defaults == {first: False, second: True}


async def test_giving_wangs_number_to_zhao_moves_it_and_is_audited(
    server: Stack, caller: Caller
) -> None:
    wang = await flows.person(caller.http, WANG_WU)
    zhao = await flows.person(caller.http, ZHAO_LIU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)

    moved = await flows.give(caller.http, zhao["id"], number)

    assert [held["number"] for held in moved["numbers"]] == [number]
    after = (await caller.http.get(f"/api/v1/persons/{wang['id']}")).json()
    assert after["numbers"] == []
    (entry,) = await _audited(server, "number.owner_moved", f"number:{number}")
    assert entry.detail == f"person:{wang['id']} -> person:{zhao['id']}"
    assert entry.actor.startswith(f"tenant:{caller.tenant_id}@")


async def test_wangs_account_on_a_moved_number_is_flagged_and_zhao_can_take_it(
    caller: Caller,
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    zhao = await flows.person(caller.http, ZHAO_LIU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    wangs = await flows.account(caller.http, E.tax_id, number)

    await flows.give(caller.http, zhao["id"], number)
    zhaos = await flows.account(caller.http, E.tax_id, number)

    listed = {
        entry["id"]: entry for entry in await flows.listing(caller.http, E.tax_id)
    }
    assert zhaos["id"] != wangs["id"]
    assert [w["code"] for w in listed[wangs["id"]]["warnings"]] == ["number_moved"]
    assert listed[zhaos["id"]]["issuer"] == ZHAO_LIU.name
    assert listed[zhaos["id"]]["warnings"] == []


async def test_a_password_change_is_the_persons_for_every_account_and_audited(
    server: Stack, caller: Caller
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    first, second = fresh_number(), fresh_number()
    for number in (first, second):
        await flows.give(caller.http, wang["id"], number)
        await flows.account(caller.http, E.tax_id, number)

    changed = await caller.http.put(
        f"/api/v1/persons/{wang['id']}/password", json={"password": "Wangwu-new-2026"}
    )

    assert changed.status_code == 204
    shown = (await caller.http.get(f"/api/v1/persons/{wang['id']}")).json()
    assert len(shown["accounts"]) == 2
    assert await _passwords(server, [a["id"] for a in shown["accounts"]]) == [
        "Wangwu-new-2026",
        "Wangwu-new-2026",
    ]
    (entry,) = await _audited(server, "person.password_changed", f"person:{wang['id']}")
    assert entry.actor.startswith(f"tenant:{caller.tenant_id}@")
    assert "Wangwu-new-2026" not in repr(entry.detail)


async def _passwords(server: Stack, account_ids: list[int]) -> list[str]:
    """The password each account logs in with: its person's (R2)."""
    runtime = server.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    async with runtime.db.session() as session:
        people = await session.scalars(
            select(Person)
            .join(Account, Account.person_id == Person.id)
            .where(Account.id.in_(account_ids))
            .order_by(Account.id)
        )
        return [registry.password_of(person) for person in people]


async def test_an_empty_password_is_refused_and_the_old_one_stays(
    server: Stack, caller: Caller
) -> None:
    wang = await flows.person(caller.http, WANG_WU)

    refused = await caller.http.put(
        f"/api/v1/persons/{wang['id']}/password", json={"password": ""}
    )

    assert_error(refused, 422, "invalid", "password")
    runtime = server.runtime
    async with runtime.db.session() as session:
        person = await session.get(Person, wang["id"])
    assert person is not None
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    assert registry.password_of(person) == WANG_WU.password
