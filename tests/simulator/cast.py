"""The shared cast of the simulator's tests: 张三, 李四 and four enterprises."""

from dataclasses import dataclass
from typing import Any

import httpx

MORNING = "2026-12-03T10:00:00+08:00"

ZHANG_ID = "440301199001011234"
ZHANG_PASSWORD = "Zhang#2026"
ZHANG_REAL = "13800000001"
S1 = "13100000001"
S2 = "13100000002"

LI_ID = "420102198502023456"
LI_PASSWORD = "Li#2026"
LI_REAL = "13900000002"
S3 = "13100000003"

# The enterprises of the demo (DESIGN §7): A, B and D in 深圳, C in 湖北.
TAX_A = "91440300MA5FA0001A"
TAX_B = "91440300MA5FB0002B"
TAX_C = "91420100MA4KC0003C"
TAX_D = "91440300MA5FD0004D"

SHENZHEN = "4403"
HUBEI = "42"


@dataclass(frozen=True)
class Cast:
    zhang: str
    li: str


async def enrol(bureau: httpx.AsyncClient) -> Cast:
    """张三 is 办税员 of A, B (深圳) and C (湖北); 李四 is 开票员 of D (深圳)."""
    await admin(bureau, "PUT", "/admin/clock", {"pinned": MORNING})
    await _enterprise(bureau, TAX_A, "示例科技（深圳）有限公司", SHENZHEN)
    await _enterprise(bureau, TAX_B, "示例贸易（深圳）有限公司", SHENZHEN)
    await _enterprise(bureau, TAX_C, "示例制造（武汉）有限公司", HUBEI)
    await _enterprise(bureau, TAX_D, "示例零售（深圳）有限公司", SHENZHEN)

    zhang = await _person(bureau, "张三", ZHANG_ID, ZHANG_PASSWORD)
    await phone(bureau, zhang, ZHANG_REAL, default=True)
    await phone(bureau, zhang, S1)
    await phone(bureau, zhang, S2)
    for tax_id in (TAX_A, TAX_B, TAX_C):
        await relation(bureau, zhang, tax_id, "03")

    li = await _person(bureau, "李四", LI_ID, LI_PASSWORD)
    await phone(bureau, li, LI_REAL, default=True)
    await phone(bureau, li, S3)
    await relation(bureau, li, TAX_D, "09")
    return Cast(zhang=zhang, li=li)


async def admin(
    bureau: httpx.AsyncClient, method: str, path: str, body: object = None
) -> dict[str, Any]:
    response = await bureau.request(method, path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def phone(
    bureau: httpx.AsyncClient, person_id: str, number: str, default: bool = False
) -> dict[str, Any]:
    body = {"person_id": person_id, "phone": number, "default": default}
    return await admin(bureau, "POST", "/admin/phones", body)


async def relation(
    bureau: httpx.AsyncClient,
    person_id: str,
    tax_id: str,
    identity_code: str,
    confirmed: bool = True,
) -> None:
    body = {
        "person_id": person_id,
        "tax_id": tax_id,
        "identity_code": identity_code,
        "confirmed": confirmed,
    }
    await admin(bureau, "POST", "/admin/relations", body)


async def _enterprise(
    bureau: httpx.AsyncClient, tax_id: str, name: str, region: str
) -> None:
    body = {"tax_id": tax_id, "name": name, "region": region}
    await admin(bureau, "POST", "/admin/enterprises", body)


async def _person(
    bureau: httpx.AsyncClient, name: str, id_number: str, password: str
) -> str:
    body = {"name": name, "id_number": id_number, "password": password}
    answer = await admin(bureau, "POST", "/admin/persons", body)
    return str(answer["person_id"])
