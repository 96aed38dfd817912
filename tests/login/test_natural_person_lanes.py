"""R4 binds the natural person: one ID number is one lane, whichever tenant asks."""

from __future__ import annotations

import pytest

from banshui.accounts.service import Registry, Service
from banshui.accounts.tenants import add_tenant
from banshui.client import BanshuiClient
from banshui.core.errors import Conflict
from banshui.demo.cast import S2, ZHANG_SAN, A, B

from .conftest import Sandbox, hold, reaching, served, settled, violations

OTHER_TENANT = "另一集团"


async def _zhang_san_enrolled_by_another_tenant(sandbox: Sandbox) -> str:
    """A second tenant with 张三 (same ID number) on S2 serving B; its API key."""
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    made = await add_tenant(runtime.db, runtime.clock, OTHER_TENANT, actor="test")
    tenant_id = made.tenant.id
    await registry.add_enterprise(tenant_id, B.tax_id, B.name)
    zhang = await registry.add_person(
        tenant_id, ZHANG_SAN.name, ZHANG_SAN.id_number, ZHANG_SAN.password
    )
    await registry.give_number(zhang.id, S2, actor="test")
    await registry.add_account(
        tenant_id,
        zhang.id,
        S2,
        [Service(B.tax_id, "03", "receive", is_default=True)],
        actor="test",
    )
    return made.api_key


async def test_two_tenants_accounts_of_one_person_wait_for_one_lane(
    sandbox: Sandbox,
) -> None:
    other_key = await _zhang_san_enrolled_by_another_tenant(sandbox)
    first = await served(sandbox, A)
    assert first["status"] == "succeeded", first["reason"]
    await hold(sandbox, first["id"], True)

    async with BanshuiClient(sandbox.stack.url, other_key) as other:
        asked = await other.ask_login(B.tax_id, "receive")
        waiting = Sandbox(sandbox.stack, other_key, 0, other)
        await reaching(waiting, asked["id"], "waiting_lane")
        still = await sandbox.client.login(first["id"])

        await hold(sandbox, first["id"], False)
        await sandbox.client.release(first["id"])
        second = await settled(waiting, asked["id"])

    assert still["status"] == "succeeded"
    # Its own account and session: the other tenant's session is not handed over.
    assert (second["status"], second["number"], second["switched"]) == (
        "succeeded",
        S2,
        False,
    )
    assert (await violations(sandbox))["lease_broken"] == 0


async def test_a_second_person_with_the_same_id_number_in_a_tenant_is_refused(
    sandbox: Sandbox,
) -> None:
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)

    with pytest.raises(Conflict) as refused:
        await registry.add_person(
            sandbox.tenant_id, "张三（重复）", ZHANG_SAN.id_number, "another-password"
        )

    assert refused.value.field == "id_number"
