"""Another tenant's key finds nothing of this tenant's: every path is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from api.shape import assert_error
from banshui.accounts.models import Person
from banshui.accounts.service import Registry

from . import flows
from .cast import WANG_WU, ZHAO_LIU, E, fresh_number
from .conftest import ON_MODULE_LOOP, Caller

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = ON_MODULE_LOOP
MISSING = 999_999


@dataclass
class Owned:
    """What the first tenant made: 王五's account on a sub-number, serving E."""

    person_id: int
    account_id: int
    number: str
    listing: list[dict[str, Any]]


@pytest_asyncio.fixture(loop_scope="module")
async def owned(caller: Caller) -> Owned:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    made = await flows.account(caller.http, E.tax_id, number)
    listing = await flows.listing(caller.http, E.tax_id)
    return Owned(wang["id"], made["id"], number, listing)


def _requests(owned: Owned, person: int, account: int, tax_id: str) -> list[Any]:
    account_body = {
        "login_type": "sub_number",
        "account": owned.number,
        "identity_code": "03",
        "default_business": "receive",
    }
    return [
        ("GET", f"/api/v1/enterprises/{tax_id}", None),
        ("GET", f"/api/v1/enterprises/{tax_id}/accounts", None),
        ("POST", f"/api/v1/enterprises/{tax_id}/accounts", account_body),
        (
            "PATCH",
            f"/api/v1/enterprises/{tax_id}/accounts/{account}",
            {"is_default": True},
        ),
        ("DELETE", f"/api/v1/enterprises/{tax_id}/accounts/{account}", None),
        ("GET", f"/api/v1/accounts/{account}", None),
        ("GET", f"/api/v1/persons/{person}", None),
        ("PUT", f"/api/v1/persons/{person}/password", {"password": "stolen-1"}),
        (
            "POST",
            f"/api/v1/persons/{person}/numbers",
            {"number": fresh_number(), "default_at_bureau": True},
        ),
    ]


PATHS = [
    "enterprise",
    "listing",
    "add-account",
    "patch-account",
    "delete-account",
    "account",
    "person",
    "password",
    "give-number",
]


@pytest.mark.parametrize("index", range(len(PATHS)), ids=PATHS)
async def test_another_tenant_gets_a_404_like_a_missing_object_on_every_path(
    owned: Owned, other: Caller, index: int
) -> None:
    method, path, body = _requests(owned, owned.person_id, owned.account_id, E.tax_id)[
        index
    ]
    _m, missing_path, _b = _requests(owned, MISSING, MISSING, "91440300MA5FZZZZZZ")[
        index
    ]

    theirs = await other.http.request(method, path, json=body)
    missing = await other.http.request(method, missing_path, json=body)

    assert_error(theirs, 404, "not_found")
    assert_error(missing, 404, "not_found")
    assert WANG_WU.name not in theirs.text


async def test_nothing_of_the_first_tenant_changed_after_the_other_tried_it_all(
    server: Stack, caller: Caller, owned: Owned, other: Caller
) -> None:
    for method, path, body in _requests(
        owned, owned.person_id, owned.account_id, E.tax_id
    ):
        await other.http.request(method, path, json=body)

    assert await flows.listing(caller.http, E.tax_id) == owned.listing
    runtime = server.runtime
    async with runtime.db.session() as session:
        wang = await session.scalar(select(Person).where(Person.id == owned.person_id))
    assert wang is not None
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    assert registry.password_of(wang) == WANG_WU.password
    shown = (await caller.http.get(f"/api/v1/persons/{owned.person_id}")).json()
    assert [n["number"] for n in shown["numbers"]] == [owned.number]


async def test_the_lists_show_the_other_tenant_none_of_the_first_tenants_objects(
    owned: Owned, other: Caller
) -> None:
    enterprises = (await other.http.get("/api/v1/enterprises")).json()
    persons = (await other.http.get("/api/v1/persons")).json()

    assert enterprises == {"enterprises": []}
    assert persons == {"persons": []}


async def test_the_other_tenant_cannot_use_or_take_the_first_tenants_number(
    owned: Owned, other: Caller
) -> None:
    await flows.enterprise(other.http, E)
    zhao = await flows.person(other.http, ZHAO_LIU)

    served = await other.http.post(
        f"/api/v1/enterprises/{E.tax_id}/accounts",
        json={
            "login_type": "sub_number",
            "account": owned.number,
            "identity_code": "03",
            "default_business": "receive",
        },
    )
    taken = await other.http.post(
        f"/api/v1/persons/{zhao['id']}/numbers", json={"number": owned.number}
    )
    patched = await other.http.patch(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{owned.account_id}",
        json={"is_default": True},
    )

    assert_error(served, 422, "invalid", "account")
    assert_error(taken, 409, "conflict", "number")
    assert_error(patched, 404, "not_found")
    assert WANG_WU.name not in served.text + taken.text + patched.text
