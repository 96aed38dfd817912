"""The same people at the simulated bureau, set up through its admin API.

banshui's registry and the bureau are apart, as in life: the tests put 王五 in
both, and his sub-numbers' SMS come back over HTTP through a gateway source.
"""

from __future__ import annotations

import secrets
from typing import Any

from banshui.demo.cast import Company, Member
from banshui.sms.sources import add_source, webhook_url
from conftest import Stack


async def admin(stack: Stack, method: str, path: str, body: dict[str, Any]) -> Any:
    answer = await stack.sim.request(method, path, json=body)
    assert answer.status_code < 300, answer.text
    return answer.json()


async def enterprise(stack: Stack, company: Company) -> None:
    body = {"tax_id": company.tax_id, "name": company.name, "region": company.region}
    await admin(stack, "POST", "/admin/enterprises", body)


async def person(stack: Stack, member: Member, password: str | None = None) -> str:
    """The person at the bureau, with their real phone as the default."""
    body = {
        "name": member.name,
        "id_number": member.id_number,
        "password": password or member.password,
    }
    person_id = str((await admin(stack, "POST", "/admin/persons", body))["person_id"])
    phone = {"person_id": person_id, "phone": member.real_phone, "default": True}
    await admin(stack, "POST", "/admin/phones", phone)
    return person_id


async def relation(
    stack: Stack, person_id: str, company: Company, identity_code: str
) -> None:
    body = {
        "person_id": person_id,
        "tax_id": company.tax_id,
        "identity_code": identity_code,
        "confirmed": True,
    }
    await admin(stack, "POST", "/admin/relations", body)


async def sub_number(stack: Stack, person_id: str, number: str) -> None:
    """Added through the portal with 默认手机号 = 否, delivering to a new source."""
    phone = {"person_id": person_id, "phone": number, "default": False}
    await admin(stack, "POST", "/admin/phones", phone)

    runtime = stack.runtime
    name, secret = f"sim-{number}", secrets.token_urlsafe(24)
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=name,
        secret=secret,
        number=number,
        actor="test",
    )
    delivery = {
        "url": webhook_url(stack.settings.public_url, "smsforwarder", name),
        "kind": "smsforwarder",
        "secret": secret,
        "slot": 1,
        "device_mark": f"{name}-phone",
    }
    await admin(stack, "PUT", f"/admin/deliveries/{number}", delivery)
