"""A lease: how long it lasts, who may take the session under it, how it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import select

from banshui.accounts.tenants import add_tenant
from banshui.audit.models import AuditEntry
from banshui.client import ApiError, BanshuiClient
from banshui.core.clock import ManualClock
from banshui.demo.cast import A, B
from banshui.login.engine import LoginEngine

from .conftest import CastOn, Sandbox, ask, reaching, served, settled

LEASE_SECONDS = 10


@pytest.fixture
def clock() -> ManualClock:
    # Real time to start with: the gateways' signatures are held to a window.
    return ManualClock(datetime.now(UTC))


@pytest.fixture
async def leasing(cast_on: CastOn, clock: ManualClock) -> AsyncIterator[Sandbox]:
    # The sweeper is left to the tests, which call it after moving the clock.
    async with cast_on(
        clock, lease_seconds=LEASE_SECONDS, lease_sweep_seconds=60
    ) as sandbox:
        yield sandbox


def _engine(sandbox: Sandbox) -> LoginEngine:
    return cast(LoginEngine, sandbox.stack.runtime.extras["engine"])


async def _hand_outs(sandbox: Sandbox, login_id: str) -> list[AuditEntry]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "session.handed_out",
                AuditEntry.subject == f"login:{login_id}",
            )
        )
        return list(rows)


async def test_a_lease_lasts_the_configured_seconds(
    leasing: Sandbox, clock: ManualClock
) -> None:
    login = await served(leasing, A)

    expires = datetime.fromisoformat(login["lease_expires_at"])
    assert expires == clock.now() + timedelta(seconds=LEASE_SECONDS)


async def test_the_session_is_handed_to_the_tenant_that_asked(
    leasing: Sandbox,
) -> None:
    login = await served(leasing, A)

    session = await leasing.client.session(login["id"])

    assert (session["tax_id"], session["identity_code"]) == (A.tax_id, "03")
    assert session["region"] == A.region and session["cookies"]["SIMSESSION"]
    assert session["lease_expires_at"] == login["lease_expires_at"]


async def test_another_tenant_is_told_the_login_does_not_exist(
    leasing: Sandbox,
) -> None:
    runtime = leasing.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "另一集团", actor="test")
    login = await served(leasing, A)

    async with BanshuiClient(leasing.stack.url, other.api_key) as stranger:
        with pytest.raises(ApiError) as refused:
            await stranger.session(login["id"])

    assert refused.value.status == 404
    assert await _hand_outs(leasing, login["id"]) == []


async def test_the_session_is_not_handed_out_after_release(leasing: Sandbox) -> None:
    login = await served(leasing, A)
    await leasing.client.release(login["id"])

    with pytest.raises(ApiError) as refused:
        await leasing.client.session(login["id"])

    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert "released" in str(refused.value)


async def test_every_hand_out_is_audited(leasing: Sandbox) -> None:
    login = await served(leasing, A)

    await leasing.client.session(login["id"])
    await leasing.client.session(login["id"])

    entries = await _hand_outs(leasing, login["id"])
    assert len(entries) == 2
    assert all(
        entry.actor.startswith(f"tenant:{leasing.tenant_id}@") for entry in entries
    )


async def test_a_lease_past_its_time_expires_and_frees_the_lane(
    leasing: Sandbox, clock: ManualClock
) -> None:
    first = await served(leasing, A)
    waiting = await ask(leasing, B)
    await reaching(leasing, waiting["id"], "waiting_lane")

    clock.advance(LEASE_SECONDS + 1)
    assert await _engine(leasing).sweep_leases() == 1

    expired = await leasing.client.login(first["id"])
    assert (expired["status"], expired["reason"]) == ("expired", "the lease timed out")
    after = await settled(leasing, waiting["id"])
    assert (after["status"], after["switched"], after["sms_used"]) == (
        "succeeded",
        True,
        0,
    )
    with pytest.raises(ApiError) as refused:
        await leasing.client.session(first["id"])
    assert refused.value.status == 409


async def test_a_lease_still_running_is_left_alone_by_the_sweep(
    leasing: Sandbox, clock: ManualClock
) -> None:
    login = await served(leasing, A)

    clock.advance(LEASE_SECONDS - 1)

    assert await _engine(leasing).sweep_leases() == 0
    assert (await leasing.client.login(login["id"]))["status"] == "succeeded"


async def test_the_session_is_not_handed_out_once_the_lease_is_up_before_any_sweep(
    leasing: Sandbox, clock: ManualClock
) -> None:
    login = await served(leasing, A)

    clock.advance(LEASE_SECONDS)

    with pytest.raises(ApiError) as refused:
        await leasing.client.session(login["id"])
    assert refused.value.status == 409
