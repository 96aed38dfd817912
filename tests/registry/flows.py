"""The registry API calls the tests make, each checked to have succeeded."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from banshui.core.db import Base
from banshui.demo.cast import Company, Member
from banshui.runtime import Runtime


async def created(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    answer = await http.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def enterprise(http: httpx.AsyncClient, company: Company) -> dict[str, Any]:
    body = {"tax_id": company.tax_id, "name": company.name}
    made: dict[str, Any] = await created(http, "/api/v1/enterprises", body)
    return made


async def person(http: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    body = {
        "name": member.name,
        "id_number": member.id_number,
        "password": member.password,
    }
    made: dict[str, Any] = await created(http, "/api/v1/persons", body)
    return made


async def give(
    http: httpx.AsyncClient, person_id: int, number: str, default: bool = False
) -> dict[str, Any]:
    body = {"number": number, "default_at_bureau": default}
    made: dict[str, Any] = await created(
        http, f"/api/v1/persons/{person_id}/numbers", body
    )
    return made


async def account(
    http: httpx.AsyncClient,
    tax_id: str,
    number: str,
    *,
    identity_code: str = "03",
    business: str = "receive",
    is_default: bool = False,
) -> dict[str, Any]:
    """The guide's 新增 form, for a sub-number."""
    body = {
        "login_type": "sub_number",
        "account": number,
        "identity_code": identity_code,
        "default_business": business,
        "is_default": is_default,
    }
    made: dict[str, Any] = await created(
        http, f"/api/v1/enterprises/{tax_id}/accounts", body
    )
    return made


async def listing(http: httpx.AsyncClient, tax_id: str) -> list[dict[str, Any]]:
    answer = await http.get(f"/api/v1/enterprises/{tax_id}/accounts")
    assert answer.status_code == 200, answer.text
    accounts: list[dict[str, Any]] = answer.json()["accounts"]
    return accounts


async def count(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(model))
    return int(rows or 0)
