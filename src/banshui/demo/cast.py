"""The cast: 示例集团, 张三 and 李四, their enterprises and sub-numbers.

Every company, person and number here is fictitious; the tax ids and ID numbers
carry valid check characters so that they pass the same validation as real ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from banshui.accounts.models import Tenant
from banshui.accounts.service import Registry, Service
from banshui.accounts.tenants import add_tenant
from banshui.core.settings import Settings, simulator_admin_token
from banshui.runtime import Runtime
from banshui.sms.models import Source
from banshui.sms.sources import SECRET_PURPOSE, add_source, webhook_url

TENANT = "示例集团"


@dataclass(frozen=True, slots=True)
class Company:
    key: str
    tax_id: str
    name: str
    region: str


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    id_number: str
    password: str
    real_phone: str


A = Company("A", "91440300MA5FA0010M", "深圳市示例甲科技有限公司", "4403")
B = Company("B", "91440300MA5FB0020E", "深圳市示例乙贸易有限公司", "4403")
C = Company("C", "91420100MA4KC0030Q", "武汉示例丙制造有限公司", "42")
D = Company("D", "91440300MA5FD00400", "深圳市示例丁服务有限公司", "4403")
COMPANIES = (A, B, C, D)

ZHANG_SAN = Member("张三", "44030519900101123X", "Demo-zhangsan-2026", "13800138000")
LI_SI = Member("李四", "420106198503152347", "Demo-lisi-2026", "13900139000")

S1, S2, S3 = "19912340001", "19912340002", "19912340003"
# Which person each sub-number was added for at the bureau, and its source name.
SUB_NUMBERS = {
    S1: (ZHANG_SAN, "sim-s1"),
    S2: (ZHANG_SAN, "sim-s2"),
    S3: (LI_SI, "sim-s3"),
}


@dataclass(frozen=True, slots=True)
class Seeded:
    tenant_id: int
    api_key: str | None  # None when the tenant existed: its key was shown before


async def seed_banshui(runtime: Runtime) -> Seeded:
    """The cast in banshui's database; does nothing if 示例集团 exists."""
    async with runtime.db.session() as session:
        existing = await session.scalar(select(Tenant).where(Tenant.name == TENANT))
    if existing is not None:
        return Seeded(tenant_id=existing.id, api_key=None)

    made = await add_tenant(runtime.db, runtime.clock, TENANT, actor="demo")
    tenant_id = made.tenant.id
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    for company in COMPANIES:
        await registry.add_enterprise(tenant_id, company.tax_id, company.name)

    zhang = await registry.add_person(
        tenant_id, ZHANG_SAN.name, ZHANG_SAN.id_number, ZHANG_SAN.password
    )
    li = await registry.add_person(
        tenant_id, LI_SI.name, LI_SI.id_number, LI_SI.password
    )
    owners = {ZHANG_SAN.name: zhang.id, LI_SI.name: li.id}
    for number, (member, source) in SUB_NUMBERS.items():
        await registry.give_number(
            owners[member.name], number, bound_phone=member.real_phone, actor="demo"
        )
        await add_source(
            runtime.db,
            runtime.vault,
            runtime.clock,
            kind="smsforwarder",
            name=source,
            secret=secrets.token_urlsafe(24),
            number=number,
            actor="demo",
        )

    receive = [Service(c.tax_id, "03", "receive", is_default=True) for c in (A, B, C)]
    await registry.add_account(tenant_id, zhang.id, S1, receive, actor="demo")
    issue = [Service(D.tax_id, "09", "issue", is_default=True)]
    await registry.add_account(tenant_id, li.id, S3, issue, actor="demo")
    return Seeded(tenant_id=tenant_id, api_key=made.api_key)


def simulator_admin_headers(settings: Settings) -> dict[str, str]:
    """What a request to the simulator's admin API carries (its bearer token)."""
    return {"Authorization": f"Bearer {simulator_admin_token(settings)}"}


async def seed_simulator(
    runtime: Runtime, admin: httpx.AsyncClient, pinned: str | None, seed: int
) -> None:
    """The same cast at the simulated bureau, through its admin API."""
    await _admin(admin, "POST", "/admin/reset", {"seed": seed})
    if pinned is not None:
        await _admin(admin, "PUT", "/admin/clock", {"pinned": pinned})

    for company in COMPANIES:
        body = {
            "tax_id": company.tax_id,
            "name": company.name,
            "region": company.region,
        }
        await _admin(admin, "POST", "/admin/enterprises", body)

    zhang = await _person(admin, ZHANG_SAN)
    li = await _person(admin, LI_SI)
    for company in (A, B, C):
        await _relation(admin, zhang, company, "03")
    await _relation(admin, li, D, "09")

    owners = {ZHANG_SAN.name: zhang, LI_SI.name: li}
    for member, person_id in ((ZHANG_SAN, zhang), (LI_SI, li)):
        await _phone(admin, person_id, member.real_phone, default=True)
    # The guide adds every sub-number with 默认手机号 = 否.
    for number, (member, source) in SUB_NUMBERS.items():
        await _phone(admin, owners[member.name], number, default=False)
        await _deliver(runtime, admin, number, source)


async def _person(admin: httpx.AsyncClient, member: Member) -> str:
    body = {
        "name": member.name,
        "id_number": member.id_number,
        "password": member.password,
    }
    answer = await _admin(admin, "POST", "/admin/persons", body)
    return str(answer["person_id"])


async def _phone(
    admin: httpx.AsyncClient, person_id: str, phone: str, default: bool
) -> None:
    body = {"person_id": person_id, "phone": phone, "default": default}
    await _admin(admin, "POST", "/admin/phones", body)


async def _relation(
    admin: httpx.AsyncClient, person_id: str, company: Company, identity: str
) -> None:
    body = {
        "person_id": person_id,
        "tax_id": company.tax_id,
        "identity_code": identity,
        "confirmed": True,
    }
    await _admin(admin, "POST", "/admin/relations", body)


async def _deliver(
    runtime: Runtime, admin: httpx.AsyncClient, number: str, source_name: str
) -> None:
    """Point the simulator's carrier at the source's webhook, with its secret."""
    async with runtime.db.session() as session:
        source = await session.scalar(select(Source).where(Source.name == source_name))
    assert source is not None
    body = {
        "url": webhook_url(runtime.settings.public_url, "smsforwarder", source_name),
        "kind": "smsforwarder",
        "secret": runtime.vault.open(source.secret_sealed, SECRET_PURPOSE),
        "slot": 1,
        "device_mark": f"{source_name}-phone",
    }
    await _admin(admin, "PUT", f"/admin/deliveries/{number}", body)


async def _admin(
    admin: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await admin.request(method, path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer
