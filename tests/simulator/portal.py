"""The natural-person portal's add-a-phone as a test walks it over HTTP (R15)."""

from typing import Any

import httpx

from .cast import ZHANG_ID, ZHANG_PASSWORD, admin
from .steps import latest_code

SHANGHAI = "31"


async def call(bureau: httpx.AsyncClient, path: str, body: object) -> dict[str, Any]:
    """A portal step: the natural-person portal takes plain JSON."""
    response = await bureau.post(path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def ask_to_add(
    bureau: httpx.AsyncClient,
    phone: str,
    region: str,
    default: bool = False,
    id_number: str = ZHANG_ID,
    password: str = ZHANG_PASSWORD,
) -> dict[str, Any]:
    body = {
        "id_number": id_number,
        "password": password,
        "phone": phone,
        "default": default,
        "region": region,
    }
    return await call(bureau, "/api/portal/phones", body)


async def type_code(
    bureau: httpx.AsyncClient, request_id: str, code: str
) -> dict[str, Any]:
    path = f"/api/portal/phones/{request_id}/code"
    return await call(bureau, path, {"code": code})


async def request_status(bureau: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = (
        await bureau.get(f"/api/portal/phones/{request_id}")
    ).json()
    assert answer["code"] == 1000, answer
    data: dict[str, Any] = answer["data"]
    return data


async def approve(bureau: httpx.AsyncClient, face_check_id: str) -> dict[str, Any]:
    path = f"/admin/face-checks/{face_check_id}/approve"
    return await admin(bureau, "POST", path)


async def up_to_face_check(
    bureau: httpx.AsyncClient, phone: str, region: str, **person: Any
) -> tuple[str, str]:
    """Ask, and type the code off the outbox: the request and its face check."""
    asked = await ask_to_add(bureau, phone, region, **person)
    assert asked["code"] == 1000, asked
    request_id = asked["data"]["request_id"]

    typed = await type_code(bureau, request_id, await latest_code(bureau, phone))
    assert typed["code"] == 1000, typed
    return request_id, typed["data"]["face_check_id"]


async def person(bureau: httpx.AsyncClient, person_id: str) -> dict[str, Any]:
    return await admin(bureau, "GET", f"/admin/persons/{person_id}")


def phones_of(person: dict[str, Any]) -> dict[str, bool]:
    return {item["phone"]: item["default"] for item in person["phones"]}
