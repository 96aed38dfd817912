"""Every refusal of the API has one shape, and a refused request writes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from banshui.demo.cast import A, D

from .conftest import ON_MODULE_LOOP, OtherTenant
from .flows import settled
from .rows import login_rows
from .shape import assert_error

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
LOGINS = "/api/v1/logins"
UNKNOWN_ID = "0" * 32


async def test_a_request_without_a_key_is_a_401_in_the_error_shape(
    sandbox: Sandbox,
) -> None:
    http = sandbox.stack.http
    before = await login_rows(sandbox.stack.runtime)

    asked = await http.post(LOGINS, json={"tax_id": A.tax_id, "business": "receive"})
    read = await http.get(f"{LOGINS}/{UNKNOWN_ID}")

    assert_error(asked, 401, "unauthorized")
    assert_error(read, 401, "unauthorized")
    assert await login_rows(sandbox.stack.runtime) == before


@pytest.mark.parametrize(
    "header",
    ["Bearer bsk_not-a-key-of-anyone", "Basic dXNlcjpwYXNz", "Bearer", "bsk_bare"],
)
async def test_a_wrong_key_is_a_401_in_the_same_shape(
    sandbox: Sandbox, header: str
) -> None:
    before = await login_rows(sandbox.stack.runtime)

    asked = await sandbox.stack.http.post(
        LOGINS,
        json={"tax_id": A.tax_id, "business": "receive"},
        headers={"Authorization": header},
    )

    assert_error(asked, 401, "unauthorized")
    assert await login_rows(sandbox.stack.runtime) == before


async def test_an_unknown_login_id_is_a_404_in_the_error_shape(
    sandbox: Sandbox,
) -> None:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}

    read = await sandbox.stack.http.get(f"{LOGINS}/{UNKNOWN_ID}", headers=headers)

    assert_error(read, 404, "not_found")


async def test_another_tenants_login_id_is_a_404_like_an_unknown_one(
    sandbox: Sandbox, other: OtherTenant, unserved_tax_id: str
) -> None:
    mine = await sandbox.client.ask_login(unserved_tax_id, "receive")
    # Ended before the next test counts the rows.
    await settled(sandbox.client, mine["id"])

    theirs = await other.http.get(f"{LOGINS}/{mine['id']}")
    unknown = await other.http.get(f"{LOGINS}/{UNKNOWN_ID}")

    error = assert_error(theirs, 404, "not_found")
    # Nothing in the answer tells an existing id from a made-up one.
    assert error == {
        key: value.replace(UNKNOWN_ID, mine["id"])
        for key, value in assert_error(unknown, 404, "not_found").items()
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tax_id": A.tax_id, "business": "invoice"}, "business"),
        ({"tax_id": A.tax_id}, "business"),
        ({"tax_id": A.tax_id, "business": "receive", "priority": 1}, "priority"),
        ({"tax_id": A.tax_id, "business": "receive", "account_id": 0}, "account_id"),
        ({"tax_id": 91440300, "business": "receive"}, "tax_id"),
        ({"business": "receive"}, "tax_id"),
    ],
    ids=[
        "wrong-business",
        "no-business",
        "extra-field",
        "bad-account",
        "number",
        "no-tax-id",
    ],
)
async def test_a_body_pydantic_refuses_is_a_422_naming_the_field(
    sandbox: Sandbox, body: dict[str, Any], field: str
) -> None:
    before = await login_rows(sandbox.stack.runtime)

    asked = await sandbox.stack.http.post(
        LOGINS, json=body, headers={"Authorization": f"Bearer {sandbox.api_key}"}
    )

    assert_error(asked, 422, "invalid", field)
    assert await login_rows(sandbox.stack.runtime) == before


@pytest.mark.parametrize("given", [str, float], ids=["string", "float"])
async def test_an_account_id_not_given_as_an_integer_is_refused_not_coerced(
    sandbox: Sandbox, given: type
) -> None:
    auth = {"Authorization": f"Bearer {sandbox.api_key}"}
    listing = await sandbox.stack.http.get(
        f"/api/v1/enterprises/{A.tax_id}/accounts", headers=auth
    )
    account_id = listing.json()["accounts"][0]["id"]
    before = await login_rows(sandbox.stack.runtime)

    # "3" for 3: the account exists, so only strictness refuses it.
    asked = await sandbox.stack.http.post(
        LOGINS,
        json={
            "tax_id": A.tax_id,
            "business": "receive",
            "account_id": given(account_id),
        },
        headers=auth,
    )

    error = assert_error(asked, 422, "invalid", "account_id")
    assert "valid integer" in error["message"]
    assert await login_rows(sandbox.stack.runtime) == before


@pytest.mark.parametrize(
    "content",
    [b'{"tax_id": "91440300MA5FA0010M", "business": ', b"tax_id=x&business=receive"],
    ids=["cut-short", "form"],
)
async def test_a_body_that_is_not_json_is_invalid_json_with_no_field(
    sandbox: Sandbox, content: bytes
) -> None:
    before = await login_rows(sandbox.stack.runtime)

    asked = await sandbox.stack.http.post(
        LOGINS,
        content=content,
        headers={
            "Authorization": f"Bearer {sandbox.api_key}",
            "Content-Type": "application/json",
        },
    )

    assert_error(asked, 422, "invalid_json")
    assert await login_rows(sandbox.stack.runtime) == before


@pytest.mark.parametrize(
    "tax_id",
    [
        "91440300MA5FA0010X",
        "918888888888888888",
        "9144030MA5FA0010M",
        "A1440300MA5FA0010M",
    ],
    ids=["check-char", "placeholder", "17-chars", "letter-in-division"],
)
async def test_an_invalid_uscc_is_a_422_on_tax_id(
    sandbox: Sandbox, tax_id: str
) -> None:
    before = await login_rows(sandbox.stack.runtime)

    asked = await sandbox.stack.http.post(
        LOGINS,
        json={"tax_id": tax_id, "business": "receive"},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )

    assert_error(asked, 422, "invalid", "tax_id")
    assert await login_rows(sandbox.stack.runtime) == before


async def test_a_valid_uscc_that_is_not_the_tenants_enterprise_is_a_422_on_tax_id(
    sandbox: Sandbox, other: OtherTenant
) -> None:
    before = await login_rows(sandbox.stack.runtime)

    # D is 示例集团's enterprise, so to 另一集团 it is unknown.
    asked = await other.http.post(
        LOGINS, json={"tax_id": D.tax_id, "business": "issue"}
    )

    error = assert_error(asked, 422, "invalid", "tax_id")
    assert D.name not in error["message"]
    assert await login_rows(sandbox.stack.runtime) == before


async def test_releasing_a_login_without_a_lease_is_a_409_that_changes_nothing(
    sandbox: Sandbox, unserved_tax_id: str
) -> None:
    asked = await sandbox.client.ask_login(unserved_tax_id, "receive")
    failed = await settled(sandbox.client, asked["id"])
    assert failed["status"] == "failed"
    before = await login_rows(sandbox.stack.runtime)

    released = await sandbox.stack.http.post(
        f"{LOGINS}/{asked['id']}/release",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )

    assert_error(released, 409, "conflict")
    assert await login_rows(sandbox.stack.runtime) == before
    assert (await sandbox.client.login(asked["id"]))["status"] == "failed"


async def test_an_unknown_path_answers_in_the_same_shape(sandbox: Sandbox) -> None:
    missing = await sandbox.stack.http.get("/api/v1/nothing-here")
    wrong_method = await sandbox.stack.http.delete(LOGINS)

    assert_error(missing, 404, "not_found")
    assert_error(wrong_method, 405, "method_not_allowed")
