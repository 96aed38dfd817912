"""A refused registry request names the field at fault and writes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from api.shape import assert_error
from banshui.accounts.models import (
    Account,
    AccountEnterprise,
    Enterprise,
    Person,
    PersonNumber,
)
from banshui.audit.models import AuditEntry
from banshui.numbers.models import Number
from banshui.sync.models import Delivery, Event

from . import flows
from .cast import WANG_WU, E, fresh_number
from .conftest import ON_MODULE_LOOP, Caller

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = ON_MODULE_LOOP

TABLES = (
    Enterprise,
    Person,
    PersonNumber,
    Number,
    Account,
    AccountEnterprise,
    Event,
    Delivery,
    AuditEntry,
)
GOOD_ENTERPRISE = {"tax_id": E.tax_id, "name": E.name}
GOOD_PERSON = {
    "name": WANG_WU.name,
    "id_number": WANG_WU.id_number,
    "password": WANG_WU.password,
}


async def _rows(server: Stack) -> list[int]:
    return [await flows.count(server.runtime, table) for table in TABLES]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD_ENTERPRISE, "tax_id": "918888888888888888"}, "tax_id"),
        ({**GOOD_ENTERPRISE, "tax_id": "91440300MA5FA0010X"}, "tax_id"),
        ({**GOOD_ENTERPRISE, "region": "99"}, "region"),
        ({**GOOD_ENTERPRISE, "name": ""}, "name"),
        ({**GOOD_ENTERPRISE, "owner": "王五"}, "owner"),
        ({"name": E.name}, "tax_id"),
    ],
    ids=["placeholder-uscc", "check-char", "region", "no-name", "extra", "no-tax-id"],
)
async def test_a_bad_enterprise_is_a_422_on_its_field(
    server: Stack, caller: Caller, body: dict[str, Any], field: str
) -> None:
    before = await _rows(server)

    answer = await caller.http.post("/api/v1/enterprises", json=body)

    assert_error(answer, 422, "invalid", field)
    assert await _rows(server) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD_PERSON, "id_number": "440305198808081230"}, "id_number"),
        ({**GOOD_PERSON, "password": ""}, "password"),
        ({**GOOD_PERSON, "name": " "}, "name"),
        ({**GOOD_PERSON, "phone": "13700137000"}, "phone"),
    ],
    ids=["id-number", "no-password", "blank-name", "extra"],
)
async def test_a_bad_person_is_a_422_on_its_field(
    server: Stack, caller: Caller, body: dict[str, Any], field: str
) -> None:
    before = await _rows(server)

    answer = await caller.http.post("/api/v1/persons", json=body)

    error = assert_error(answer, 422, "invalid", field)
    assert WANG_WU.password not in error["message"]
    assert await _rows(server) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "12345678901"}, "number"),
        ({"number": "+1 415 555 0100"}, "number"),
        ({"number": "01088888888"}, "number"),
        ({"number": "19912359999", "owner": 1}, "owner"),
    ],
    ids=["not-a-phone", "not-mainland", "landline", "extra"],
)
async def test_a_bad_number_is_a_422_on_its_field(
    server: Stack, caller: Caller, body: dict[str, Any], field: str
) -> None:
    wang = await flows.person(caller.http, WANG_WU)
    before = await _rows(server)

    answer = await caller.http.post(f"/api/v1/persons/{wang['id']}/numbers", json=body)

    assert_error(answer, 422, "invalid", field)
    assert await _rows(server) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account": "12345"}, "account"),
        ({"account": "+1 415 555 0100"}, "account"),
        ({"identity_code": "04"}, "identity_code"),
        ({"identity_code": "办税员"}, "identity_code"),
        ({"default_business": "invoice"}, "default_business"),
        ({"login_type": "password"}, "login_type"),
        ({"password": WANG_WU.password}, "password"),
        ({"account": "19912359998"}, "account"),
        ({"app_key": "K7Q2M9X4T1BZ"}, "provider_url"),
        (
            {"provider_url": "ftp://provider", "app_key": "K", "app_secret": "S"},
            "provider_url",
        ),
    ],
    ids=[
        "short-number",
        "foreign-number",
        "unknown-identity",
        "identity-name",
        "business",
        "login-type",
        "extra-password",
        "nobodys-number",
        "half-a-provider",
        "provider-scheme",
    ],
)
async def test_a_bad_account_is_a_422_on_its_field(
    server: Stack, caller: Caller, change: dict[str, Any], field: str
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    body = {
        "login_type": "sub_number",
        "account": number,
        "identity_code": "03",
        "default_business": "receive",
        **change,
    }
    before = await _rows(server)

    answer = await caller.http.post(
        f"/api/v1/enterprises/{E.tax_id}/accounts", json=body
    )

    error = assert_error(answer, 422, "invalid", field)
    assert WANG_WU.password not in error["message"]
    assert await _rows(server) == before


async def test_a_real_phone_cannot_be_a_sub_number_account(
    server: Stack, caller: Caller
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    await flows.created(
        caller.http,
        f"/api/v1/persons/{wang['id']}/numbers",
        {"number": WANG_WU.real_phone, "is_sub_number": False},
    )
    before = await _rows(server)

    refused = await caller.http.post(
        f"/api/v1/enterprises/{E.tax_id}/accounts",
        json={
            "login_type": "sub_number",
            "account": WANG_WU.real_phone,
            "identity_code": "03",
            "default_business": "receive",
        },
    )

    assert_error(refused, 422, "invalid", "login_type")
    assert await _rows(server) == before


async def test_the_same_enterprise_twice_is_a_409_on_tax_id(
    server: Stack, caller: Caller
) -> None:
    await flows.enterprise(caller.http, E)
    before = await _rows(server)

    again = await caller.http.post("/api/v1/enterprises", json=GOOD_ENTERPRISE)

    assert_error(again, 409, "conflict", "tax_id")
    assert await _rows(server) == before


async def test_the_same_person_twice_is_a_409_on_id_number(
    server: Stack, caller: Caller
) -> None:
    await flows.person(caller.http, WANG_WU)
    before = await _rows(server)

    again = await caller.http.post("/api/v1/persons", json=GOOD_PERSON)

    assert_error(again, 409, "conflict", "id_number")
    assert await _rows(server) == before


async def test_the_same_account_for_the_same_enterprise_twice_is_a_409(
    server: Stack, caller: Caller
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    await flows.account(caller.http, E.tax_id, number)
    before = await _rows(server)

    again = await caller.http.post(
        f"/api/v1/enterprises/{E.tax_id}/accounts",
        json={
            "login_type": "sub_number",
            "account": number,
            "identity_code": "03",
            "default_business": "issue",
        },
    )

    assert_error(again, 409, "conflict", "account")
    assert await _rows(server) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, None), ({"is_default": "yes"}, "is_default"), ({"name": "x"}, "name")],
    ids=["nothing", "not-a-bool", "extra"],
)
async def test_a_patch_that_changes_nothing_or_too_much_is_a_422(
    server: Stack, caller: Caller, body: dict[str, Any], field: str | None
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    made = await flows.account(caller.http, E.tax_id, number)
    before = await _rows(server)

    answer = await caller.http.patch(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{made['id']}", json=body
    )

    assert_error(answer, 422, "invalid", field)
    assert await _rows(server) == before
