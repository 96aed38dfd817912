"""``GET /api/v1/forwards``: the queue for a caller with a tenant key, no SMS in it."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from starlette.responses import Response

from api.shape import assert_error
from banshui.accounts.service import Registry
from banshui.accounts.tenants import add_tenant
from banshui.chat.commands import answer
from banshui.demo.cast import S1, A
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from forwarding.conftest import CHANNEL, Forwarding
from forwarding.receivers import BOUND_PHONE, SECRETS, Receiver

pytestmark = pytest.mark.parametrize("kit", ["dingtalk"], indirect=True)


async def test_the_queue_is_listed_by_status_for_a_tenant_key(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime
    made = await add_tenant(runtime.db, forwarding.clock, "示例集团", actor="test")
    other = await add_tenant(runtime.db, forwarding.clock, "另一集团", actor="test")
    await bound_for(forwarding, made.tenant.id)
    bearer = {"Authorization": f"Bearer {made.api_key}"}
    receiver.fail_next(Response(status_code=502))
    await forwarding.deliver()
    await forwarding.until("due", attempts=1)

    due = await forwarding.stack.http.get(
        "/api/v1/forwards", params={"status": "due"}, headers=bearer
    )
    sent = await forwarding.stack.http.get(
        "/api/v1/forwards", params={"status": "sent"}, headers=bearer
    )

    assert due.status_code == 200, due.text
    (row,) = due.json()["forwards"]
    assert (row["number"], row["channel"], row["kind"]) == (S1, CHANNEL, "dingtalk")
    assert row["attempts"] == 1
    assert row["last_error"] == "the receiver answered HTTP 502"
    assert "text" not in row and "code" not in row
    assert "418207" not in due.text
    for secret in SECRETS:
        assert secret not in due.text
    assert sent.json() == {"forwards": []}
    theirs = await forwarding.stack.http.get(
        "/api/v1/forwards", headers={"Authorization": f"Bearer {other.api_key}"}
    )
    assert theirs.json() == {"forwards": []}


async def bound_for(forwarding: Forwarding, tenant_id: int) -> None:
    """S1 bound for an enterprise of the tenant: its forwards are the tenant's."""
    runtime = forwarding.stack.runtime
    registry = Registry(runtime.db, runtime.vault, forwarding.clock)
    await registry.add_enterprise(tenant_id, A.tax_id, A.name)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Number)
            .where(Number.msisdn == S1)
            .values(tax_id=A.tax_id, tenant_id=tenant_id)
        )


async def test_another_tenant_with_the_same_tax_id_lists_none_of_the_forwards(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime
    made = await add_tenant(runtime.db, forwarding.clock, "示例集团", actor="test")
    other = await add_tenant(runtime.db, forwarding.clock, "另一集团", actor="test")
    registry = Registry(runtime.db, runtime.vault, forwarding.clock)
    await registry.add_enterprise(made.tenant.id, A.tax_id, A.name)
    customer = await add_customer(runtime.db, runtime.vault, forwarding.clock, "号商")
    fields = [A.tax_id, customer.customer.app_key, customer.app_secret]
    command = "#".join(["绑定小号", *fields, BOUND_PHONE, S1])
    assert (await answer(runtime, command, actor="运维小王")).ok
    theirs = {"Authorization": f"Bearer {other.api_key}"}
    added = await forwarding.stack.http.post(
        "/api/v1/enterprises",
        json={"tax_id": A.tax_id, "name": "冒名甲公司"},
        headers=theirs,
    )
    assert added.status_code == 201, added.text
    await forwarding.deliver()
    await forwarding.until("sent")

    listed = await forwarding.stack.http.get("/api/v1/forwards", headers=theirs)
    own = await forwarding.stack.http.get(
        "/api/v1/forwards", headers={"Authorization": f"Bearer {made.api_key}"}
    )

    assert listed.status_code == 200, listed.text
    assert listed.json() == {"forwards": []}
    assert [row["number"] for row in own.json()["forwards"]] == [S1]


async def test_the_queue_needs_a_tenant_key_and_a_known_status(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime
    made = await add_tenant(runtime.db, forwarding.clock, "示例集团", actor="test")
    bearer = {"Authorization": f"Bearer {made.api_key}"}

    anonymous = await forwarding.stack.http.get("/api/v1/forwards")
    unknown = await forwarding.stack.http.get(
        "/api/v1/forwards", params={"status": "lost"}, headers=bearer
    )

    assert_error(anonymous, 401, "unauthorized")
    assert_error(unknown, 422, "invalid", field="status")
