"""R10 and R15: Shanghai refuses to add a sub-number; added through another region
at the natural-person portal, it logs a Shanghai enterprise in, bureau data being
national."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.accounts.service import Registry, Service
from banshui.demo.cast import ZHANG_SAN, Company
from banshui.sms.sources import add_source, webhook_url

from .conftest import Sandbox, outbox, person_at_bureau, served

SHANGHAI, SHENZHEN = "31", "4403"
E = Company("E", "91310115MA1KE0050L", "上海示例戊咨询有限公司", SHANGHAI)
NEW = "19912340009"  # 张三's third sub-number, bought for the Shanghai enterprise


async def _sim(sandbox: Sandbox, method: str, path: str, body: Any) -> Any:
    response = await sandbox.stack.sim.request(method, path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def _shanghai_enterprise_of_zhang(sandbox: Sandbox) -> None:
    """At the bureau: E in Shanghai, 张三 its confirmed 办税员."""
    company = {"tax_id": E.tax_id, "name": E.name, "region": SHANGHAI}
    await _sim(sandbox, "POST", "/admin/enterprises", company)
    relation = {
        "person_id": await person_at_bureau(sandbox, ZHANG_SAN),
        "tax_id": E.tax_id,
        "identity_code": "03",
        "confirmed": True,
    }
    await _sim(sandbox, "POST", "/admin/relations", relation)


async def _new_sub_number_in_banshui(sandbox: Sandbox) -> None:
    """banshui: E, the sub-number with its gateway, 张三's account on it for E."""
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.add_enterprise(sandbox.tenant_id, E.tax_id, E.name, actor="test")
    async with runtime.db.session() as session:
        zhang = await session.scalar(
            select(Person.id).where(Person.name == ZHANG_SAN.name)
        )
    assert zhang is not None
    await registry.give_number(
        zhang, NEW, bound_phone=ZHANG_SAN.real_phone, actor="test"
    )

    secret = secrets.token_urlsafe(24)
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name="sim-new",
        secret=secret,
        number=NEW,
        actor="test",
    )
    url = webhook_url(runtime.settings.public_url, "smsforwarder", "sim-new")
    delivery = {"url": url, "kind": "smsforwarder", "secret": secret, "slot": 1}
    await _sim(sandbox, "PUT", f"/admin/deliveries/{NEW}", delivery)

    service = Service(E.tax_id, "03", "receive", is_default=True)
    await registry.add_account(sandbox.tenant_id, zhang, NEW, [service], actor="test")


async def _ask_to_add(sandbox: Sandbox, region: str) -> dict[str, Any]:
    body = {
        "id_number": ZHANG_SAN.id_number,
        "password": ZHANG_SAN.password,
        "phone": NEW,
        "default": False,
        "region": region,
    }
    answer: dict[str, Any] = await _sim(sandbox, "POST", "/api/portal/phones", body)
    return answer


async def _added_with_code_and_face_check(sandbox: Sandbox, region: str) -> None:
    """张三 at the portal: the code sent to the number, then the face check."""
    asked = await _ask_to_add(sandbox, region)
    assert asked["code"] == 1000, asked
    text = (await outbox(sandbox, NEW))[-1]["text"]
    found = re.search(r"[0-9]{6}", text)
    assert found is not None, text

    path = f"/api/portal/phones/{asked['data']['request_id']}/code"
    typed = await _sim(sandbox, "POST", path, {"code": found.group()})
    assert typed["code"] == 1000, typed
    face_check = typed["data"]["face_check_id"]
    await _sim(sandbox, "POST", f"/admin/face-checks/{face_check}/approve", None)


async def test_a_number_shanghai_refused_logs_in_there_once_added_through_shenzhen(
    sandbox: Sandbox,
) -> None:
    await _shanghai_enterprise_of_zhang(sandbox)
    await _new_sub_number_in_banshui(sandbox)

    refused = await _ask_to_add(sandbox, SHANGHAI)
    await _added_with_code_and_face_check(sandbox, SHENZHEN)
    login = await served(sandbox, E)

    assert refused["code"] == 2070
    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        NEW,
        1,
    )
    handed = await sandbox.client.session(login["id"])
    assert (handed["region"], handed["tax_id"]) == (SHANGHAI, E.tax_id)
    # The portal's code reached the inbox too; the login took only its own.
    portal, login_code = await outbox(sandbox, NEW)
    assert portal["cause"] == "portal" and login_code["cause"] == "banshui"
