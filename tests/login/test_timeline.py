"""A login can be followed: its timeline, and its events as they happen."""

from __future__ import annotations

from banshui.demo.cast import ZHANG_SAN, A, B

from .conftest import Sandbox, api_get, ask, reaching, served, settled

FRESH = ["queued", "requesting_code", "waiting_code", "submitting", "succeeded"]


async def _statuses(sandbox: Sandbox, login_id: str) -> list[str]:
    events = await api_get(sandbox, f"/api/v1/logins/{login_id}/timeline")
    return [event["status"] for event in events]


async def test_the_timeline_lists_the_statuses_of_a_fresh_login_in_order(
    sandbox: Sandbox,
) -> None:
    login = await served(sandbox, A)
    await sandbox.client.release(login["id"])

    assert await _statuses(sandbox, login["id"]) == [*FRESH, "released"]


async def test_the_timeline_of_a_switch_goes_from_waiting_to_succeeded(
    sandbox: Sandbox,
) -> None:
    first = await served(sandbox, A)
    waiting = await ask(sandbox, B)
    await reaching(sandbox, waiting["id"], "waiting_lane")
    await sandbox.client.release(first["id"])
    await settled(sandbox, waiting["id"])

    assert await _statuses(sandbox, waiting["id"]) == [
        "queued",
        "waiting_lane",
        "succeeded",
    ]


async def test_a_failed_login_ends_its_timeline_with_the_reason(
    sandbox: Sandbox,
) -> None:
    login = await served(sandbox, A, "issue")

    events = await api_get(sandbox, f"/api/v1/logins/{login['id']}/timeline")

    assert events[-1]["status"] == "failed"
    assert events[-1]["detail"] == login["reason"]


async def test_the_events_stream_yields_the_login_object_after_each_change(
    sandbox: Sandbox,
) -> None:
    first = await served(sandbox, A)
    # The lane's session dies while B waits, so B will log in fresh.
    body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
    await sandbox.stack.sim.post("/admin/sessions/drop", json=body)
    waiting = await ask(sandbox, B)
    await reaching(sandbox, waiting["id"], "waiting_lane")

    seen = []
    async for login in sandbox.client.follow(waiting["id"]):
        seen.append(login)
        if login["status"] == "waiting_lane":
            await sandbox.client.release(first["id"])

    assert [login["status"] for login in seen] == ["waiting_lane", *FRESH[1:]]
    assert all(set(login) >= {"id", "sms_used", "number"} for login in seen)
    assert (seen[-1]["sms_used"], seen[-1]["lease_expires_at"] is not None) == (
        1,
        True,
    )
