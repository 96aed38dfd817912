"""Hostile bodies get a clear 4xx in the one error shape, on every route that reads one.

Every operation of ``/openapi.json`` that takes a JSON body, the provider API
signed as its customers sign, and every gateway's webhook are sent a body too
large, one of the wrong content type, JSON nested far too deep, bytes that are
not UTF-8, and JSON that is not an object. Each answer is a 4xx with
``{"error": {"code", "message", "field"?}}`` and nothing else; none is a 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi.routing import iter_route_contexts

from api.shape import assert_error
from banshui.operators.roles import Role
from banshui.operators.users import add_operator
from security.conftest import World
from security.wire import banshui_signed
from web.console import Console, csrf_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOO_LARGE = b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}'
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000

BODIES: dict[str, tuple[bytes, str]] = {
    "too large": (TOO_LARGE, "application/json"),
    "wrong content type": (b"tax_id=1&business=receive", "text/plain"),
    "form instead of JSON": (b"a=1", "application/x-www-form-urlencoded"),
    "deeply nested list": (DEEP, "application/json"),
    "deeply nested object": (DEEP_OBJECT, "application/json"),
    "invalid UTF-8": (b'{"name": "\xff\xfe\xc3\x28"}', "application/json"),
    "not an object": (b'["a", 1, null]', "application/json"),
    "a bare string": (b'"hello"', "application/json"),
    "truncated": (b'{"tax_id": "9144', "application/json"),
    "lone surrogate": (b'{"name": "\\ud800"}', "application/json"),
}


def assert_error_shape(answer: httpx.Response) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "field"} and {"code", "message"} <= set(
        error
    ), error
    assert error["code"].replace("_", "").isalpha() and error["code"].islower()
    assert isinstance(error["message"], str) and error["message"]


def json_operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every operation whose body is JSON, ids filled in."""
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path))
    return found


def filled(path: str) -> str:
    return (
        path.replace("{tax_id}", "91440300MA5FA0010M")
        .replace("{number}", "19912340001")
        .replace("{login_id}", "0" * 32)
        .replace("{webhook_id}", "0" * 32)
        .replace("{account_id}", "1")
        .replace("{person_id}", "1")
        .replace("{delivery_id}", "1")
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def operations(world: World) -> list[tuple[str, str]]:
    schema = (await world.http.get("/openapi.json")).json()
    found = json_operations(schema)
    assert len(found) >= 8, found
    return found


def headers_for(world: World, method: str, path: str, body: bytes) -> dict[str, str]:
    if path.startswith("/api/v1/provider"):
        url = world.stack.url + path
        return banshui_signed(
            method, url, world.app_key, world.app_secret, body
        ).headers
    if path == "/hooks/chat":
        return {"authorization": "Bearer security-chat-token-2a7c9e41"}
    return {"authorization": f"Bearer {world.api_key}"}


@pytest.mark.parametrize("name", list(BODIES))
async def test_every_json_operation_answers_a_hostile_body_in_the_error_shape(
    world: World, operations: list[tuple[str, str]], name: str
) -> None:
    content, content_type = BODIES[name]

    for method, path in operations:
        url = filled(path)
        headers = headers_for(world, method, url, content)
        headers["content-type"] = content_type
        answer = await world.http.request(method, url, content=content, headers=headers)

        assert_error_shape(answer)
        assert (answer.status_code == 413) == (name == "too large"), (method, url)


@pytest.mark.parametrize(
    "name", ["deeply nested list", "deeply nested object", "invalid UTF-8"]
)
async def test_every_json_operation_answers_unreadable_json_with_invalid_json(
    world: World, operations: list[tuple[str, str]], name: str
) -> None:
    content, content_type = BODIES[name]

    for method, path in operations:
        url = filled(path)
        headers = headers_for(world, method, url, content)
        headers["content-type"] = content_type
        answer = await world.http.request(method, url, content=content, headers=headers)

        assert_error(answer, 422, "invalid_json", None)


async def test_every_json_operation_refuses_a_chunked_body_over_1_mib_with_413(
    world: World, operations: list[tuple[str, str]]
) -> None:
    content = b'{"name": "' + b"x" * (1024 * 1024 + 64 * 1024) + b'"}'

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 64 * 1024):
            yield content[start : start + 64 * 1024]

    for method, path in operations:
        url = filled(path)
        headers = headers_for(world, method, url, content)
        headers["content-type"] = "application/json"
        answer = await world.http.request(
            method, url, content=chunked(), headers=headers
        )

        assert "content-length" not in answer.request.headers
        assert_error(answer, 413, "too_large", None)


@pytest.mark.parametrize("name", list(BODIES))
async def test_every_webhook_answers_a_hostile_body_in_the_error_shape(
    world: World, name: str
) -> None:
    content, content_type = BODIES[name]

    for door in world.doors.values():
        answer = await world.http.post(
            door.url, content=content, headers={"content-type": content_type}
        )

        assert_error_shape(answer)
        assert answer.status_code in (401, 413, 422)
        # A webhook reads at most 64 KiB: the deep bodies are too large for it.
        assert answer.status_code == 413 or name != "too large"


async def test_a_body_declared_larger_than_it_is_is_refused_before_it_is_read(
    world: World,
) -> None:
    headers = {
        "authorization": f"Bearer {world.api_key}",
        "content-type": "application/json",
    }
    body = json.dumps({"tax_id": "91440300MA5FA0010M", "business": "receive"})

    answer = await world.http.post(
        "/api/v1/logins",
        content=body.encode() + b" " * (2 * 1024 * 1024),
        headers=headers,
    )

    assert answer.status_code == 413
    assert_error_shape(answer)


HUGE = str(10**30)


async def test_an_id_too_large_for_any_row_is_a_4xx_on_every_route(
    world: World,
) -> None:
    runtime = world.stack.runtime
    await add_operator(
        runtime.db, runtime.clock, name="巨号", password="Huge-ids-pass-2026",
        role=Role.ADMIN, tenant_id=None, actor="test",
    )  # fmt: skip
    auth = {"authorization": f"Bearer {world.api_key}"}
    async with Console(world.stack.url) as console:
        await console.sign_in("巨号", "Huge-ids-pass-2026")
        console.csrf = csrf_of((await console.get("/persons")).text)
        for route in iter_route_contexts(world.stack.app.routes):
            path = str(getattr(route, "path", ""))
            if "_id}" not in path or path.startswith("/api/v1/provider"):
                continue
            url = re.sub(r"\{[a-z_]*_id\}", HUGE, path).replace(
                "{tax_id}", "91440300MA5FA0010M"
            )
            for method in sorted((route.methods or set()) - {"HEAD"}):
                if path.startswith("/api/"):
                    answer = await world.http.request(method, url, headers=auth)
                elif method == "GET":
                    answer = await console.get(url)
                else:
                    answer = await console.post(url)

                assert 400 <= answer.status_code < 500, (method, url, answer.text)
