"""A tenant's key sees only its own tenant: another's login is as good as missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from banshui.audit.models import AuditEntry
from banshui.demo.cast import A

from .conftest import ON_MODULE_LOOP, OtherTenant
from .flows import settled
from .shape import assert_error

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def leased(sandbox: Sandbox) -> AsyncIterator[dict[str, Any]]:
    """示例集团's login for A, succeeded and holding its lease."""
    asked = await sandbox.client.ask_login(A.tax_id, "receive")
    login = await settled(sandbox.client, asked["id"])
    assert login["status"] == "succeeded", login
    yield login
    await sandbox.client.release(login["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "/timeline"),
        ("GET", "/events"),
        ("GET", "/session"),
        ("POST", "/release"),
    ],
    ids=["read", "timeline", "follow", "session", "release"],
)
async def test_another_tenants_key_gets_a_404_for_every_use_of_a_login(
    sandbox: Sandbox,
    other: OtherTenant,
    leased: dict[str, Any],
    method: str,
    path: str,
) -> None:
    answer = await other.http.request(method, f"/api/v1/logins/{leased['id']}{path}")

    error = assert_error(answer, 404, "not_found")
    assert A.tax_id not in error["message"]


async def test_the_owner_still_holds_the_lease_after_the_other_tenant_tried(
    sandbox: Sandbox, other: OtherTenant, leased: dict[str, Any]
) -> None:
    await other.http.post(f"/api/v1/logins/{leased['id']}/release")

    login = await sandbox.client.login(leased["id"])
    session = await sandbox.client.session(leased["id"])

    assert login["status"] == "succeeded"
    assert session["tax_id"] == A.tax_id


async def test_no_session_is_handed_out_or_audited_for_the_other_tenant(
    sandbox: Sandbox, other: OtherTenant, leased: dict[str, Any]
) -> None:
    await other.http.get(f"/api/v1/logins/{leased['id']}/session")

    async with sandbox.stack.runtime.db.session() as session:
        actors = list(
            await session.scalars(
                select(AuditEntry.actor).where(
                    AuditEntry.action == "session.handed_out",
                    AuditEntry.subject == f"login:{leased['id']}",
                )
            )
        )
    assert all(actor.startswith(f"tenant:{sandbox.tenant_id}@") for actor in actors)
    assert not any(actor.startswith(f"tenant:{other.tenant_id}@") for actor in actors)
