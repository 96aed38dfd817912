"""The OpenAPI document describes the login API business systems call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .conftest import ON_MODULE_LOOP

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP

LOGIN_PATHS = {
    "/api/v1/logins": "post",
    "/api/v1/logins/{login_id}": "get",
    "/api/v1/logins/{login_id}/events": "get",
    "/api/v1/logins/{login_id}/session": "get",
    "/api/v1/logins/{login_id}/release": "post",
}


async def _document(sandbox: Sandbox) -> dict[str, Any]:
    answer = await sandbox.stack.http.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = answer.json()
    return document


async def test_openapi_json_is_served_without_a_key(sandbox: Sandbox) -> None:
    document = await _document(sandbox)

    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "banshui"


async def test_openapi_lists_every_login_path_with_its_method(
    sandbox: Sandbox,
) -> None:
    paths = (await _document(sandbox))["paths"]

    for path, method in LOGIN_PATHS.items():
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not listed"


async def test_openapi_describes_the_login_request_body(sandbox: Sandbox) -> None:
    document = await _document(sandbox)

    schemas = document["components"]["schemas"]
    ask = schemas["LoginAsk"]
    assert set(ask["required"]) == {"tax_id", "business"}
    assert ask["properties"]["business"]["enum"] == ["receive", "issue"]
    assert ask.get("additionalProperties") is False


async def test_openapi_lists_the_path_for_a_code_a_person_typed(
    sandbox: Sandbox,
) -> None:
    paths = (await _document(sandbox))["paths"]

    assert "post" in paths.get("/api/v1/logins/{login_id}/code", {})


async def test_openapi_describes_the_listing_of_logins_and_its_filters(
    sandbox: Sandbox,
) -> None:
    document = await _document(sandbox)

    listing = document["paths"]["/api/v1/logins"]["get"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert set(parameters) == {
        "status", "tax_id", "business", "created_after", "created_before",
        "limit", "cursor",
    }  # fmt: skip
    assert all(p["in"] == "query" for p in parameters.values())
    status = parameters["status"]["schema"]
    assert status["type"] == "array"
    statuses = document["components"]["schemas"]["Status"]["enum"]
    assert {"succeeded", "waiting_code", "failed"} <= set(statuses)
    limit = parameters["limit"]["schema"]
    assert (limit["default"], limit["minimum"], limit["maximum"]) == (50, 1, 200)
    answer = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/LoginList")
    assert document["components"]["schemas"]["LoginList"]["required"] == [
        "logins",
        "next_cursor",
    ]


async def test_openapi_says_a_login_request_answers_with_its_location(
    sandbox: Sandbox,
) -> None:
    paths = (await _document(sandbox))["paths"]

    accepted = paths["/api/v1/logins"]["post"]["responses"]["202"]
    assert "Location" in accepted["headers"]
