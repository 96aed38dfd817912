"""The OpenAPI document describes the registry and webhooks for ERP developers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .conftest import ON_MODULE_LOOP

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = ON_MODULE_LOOP

PATHS = {
    "/api/v1/enterprises": {"get", "post"},
    "/api/v1/enterprises/{tax_id}": {"get"},
    "/api/v1/enterprises/{tax_id}/accounts": {"get", "post"},
    "/api/v1/enterprises/{tax_id}/accounts/{account_id}": {"patch", "delete"},
    "/api/v1/accounts/{account_id}": {"get"},
    "/api/v1/persons": {"get", "post"},
    "/api/v1/persons/{person_id}": {"get"},
    "/api/v1/persons/{person_id}/password": {"put"},
    "/api/v1/persons/{person_id}/numbers": {"post"},
    "/api/v1/webhooks": {"get", "post"},
    "/api/v1/webhooks/{webhook_id}": {"get", "delete"},
    "/api/v1/webhooks/{webhook_id}/deliveries": {"get"},
    "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": {"post"},
}


async def _document(server: Stack) -> dict[str, Any]:
    answer = await server.http.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


async def test_openapi_lists_every_registry_and_webhook_path(server: Stack) -> None:
    paths = (await _document(server))["paths"]

    for path, methods in PATHS.items():
        assert methods <= set(paths.get(path, {})), path


async def test_openapi_describes_the_new_account_form_strictly(server: Stack) -> None:
    schemas = (await _document(server))["components"]["schemas"]

    form = schemas["AccountIn"]
    assert set(form["required"]) == {
        "login_type",
        "account",
        "identity_code",
        "default_business",
    }
    assert form["properties"]["login_type"]["enum"] == ["sub_number", "phone"]
    assert form.get("additionalProperties") is False
    assert "password" not in schemas["PersonOut"]["properties"]
    assert "secret" not in schemas["WebhookOut"]["properties"]
