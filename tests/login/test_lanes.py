"""R4: one lane (person, region) serves its requests one after another."""

from __future__ import annotations

import asyncio

import pytest

from banshui.client import ApiError
from banshui.demo.cast import S1, S2, S3, A, B, C, D

from .conftest import (
    Login,
    Sandbox,
    api_get,
    ask,
    deliver_kept,
    hold,
    reaching,
    served,
    settled,
    undelivered,
    violations,
)


async def _first_to_succeed(
    sandbox: Sandbox, asked: list[Login]
) -> tuple[Login, Login]:
    """The login that got the lane, and the other one."""
    async with asyncio.timeout(10):
        while True:
            now = [await sandbox.client.login(login["id"]) for login in asked]
            done = [login for login in now if login["status"] == "succeeded"]
            if done:
                (other,) = [login for login in now if login is not done[0]]
                return done[0], other
            await asyncio.sleep(0.02)


async def test_requests_of_one_lane_are_served_in_order_of_arrival(
    sandbox: Sandbox,
) -> None:
    first = await served(sandbox, A)
    await hold(sandbox, first["id"], True)
    second = await ask(sandbox, B)
    await reaching(sandbox, second["id"], "waiting_lane")
    third = await ask(sandbox, A)
    await reaching(sandbox, third["id"], "waiting_lane")

    await asyncio.sleep(0.2)
    assert (await sandbox.client.login(second["id"]))["status"] == "waiting_lane"

    await hold(sandbox, first["id"], False)
    await sandbox.client.release(first["id"])
    second_done = await settled(sandbox, second["id"])
    assert (second_done["status"], second_done["switched"]) == ("succeeded", True)
    assert (await sandbox.client.login(third["id"]))["status"] == "waiting_lane"

    await sandbox.client.release(second["id"])
    third_done = await settled(sandbox, third["id"])
    assert (third_done["status"], third_done["switched"]) == ("succeeded", True)
    assert third_done["sms_used"] == 0


async def test_a_request_waiting_for_its_lane_is_withdrawn_by_its_release(
    sandbox: Sandbox,
) -> None:
    first = await served(sandbox, A)
    waiting = await ask(sandbox, B)
    await reaching(sandbox, waiting["id"], "waiting_lane")
    behind = await ask(sandbox, A)
    await reaching(sandbox, behind["id"], "waiting_lane")

    withdrawn = await sandbox.client.release(waiting["id"])
    await sandbox.client.release(first["id"])
    next_one = await settled(sandbox, behind["id"])

    assert withdrawn["status"] == "released"
    assert "withdrawn" in withdrawn["reason"]
    assert withdrawn["sms_used"] == 0
    # The one behind it did not wait for it: it took the lane after the first.
    assert (next_one["status"], next_one["sms_used"]) == ("succeeded", 0)
    later = await sandbox.client.login(waiting["id"])
    assert (later["status"], later["sms_used"]) == ("released", 0)
    await sandbox.client.release(behind["id"])


async def test_a_withdrawn_request_never_takes_its_lane_later(
    sandbox: Sandbox,
) -> None:
    first = await served(sandbox, A)
    waiting = await ask(sandbox, B)
    await reaching(sandbox, waiting["id"], "waiting_lane")

    await sandbox.client.release(waiting["id"])
    await sandbox.client.release(first["id"])
    again = await served(sandbox, A)

    timeline = await api_get(sandbox, f"/api/v1/logins/{waiting['id']}/timeline")
    statuses = [event["status"] for event in timeline]
    assert statuses[-1] == "released"
    assert "succeeded" not in statuses
    assert again["sms_used"] == 0  # the lane's session is still there for A
    await sandbox.client.release(again["id"])


async def test_releasing_a_released_login_again_answers_it_as_it_is(
    sandbox: Sandbox,
) -> None:
    first = await served(sandbox, A)
    waiting = await ask(sandbox, B)
    await reaching(sandbox, waiting["id"], "waiting_lane")

    withdrawn = await sandbox.client.release(waiting["id"])
    again = await sandbox.client.release(waiting["id"])
    released = await sandbox.client.release(first["id"])
    released_again = await sandbox.client.release(first["id"])

    assert again == withdrawn
    assert released_again == released
    assert released["status"] == "released"


async def test_a_request_at_work_is_not_withdrawn(sandbox: Sandbox) -> None:
    async with undelivered(sandbox, S1):
        asked = await ask(sandbox, A)
        await reaching(sandbox, asked["id"], "waiting_code")

        with pytest.raises(ApiError) as refused:
            await sandbox.client.release(asked["id"])

    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert "waiting_code" in str(refused.value)


async def test_two_requests_asked_at_once_share_one_fresh_login(
    sandbox: Sandbox,
) -> None:
    asked = await asyncio.gather(ask(sandbox, A), ask(sandbox, B))
    first, other = await _first_to_succeed(sandbox, asked)
    await hold(sandbox, first["id"], True)
    await reaching(sandbox, other["id"], "waiting_lane")

    await hold(sandbox, first["id"], False)
    await sandbox.client.release(first["id"])
    second = await settled(sandbox, other["id"])

    assert (first["sms_used"], second["sms_used"]) == (1, 0)
    assert second["switched"] is True
    assert (await violations(sandbox))["lease_broken"] == 0


async def test_a_lane_of_another_region_does_not_wait(sandbox: Sandbox) -> None:
    in_shenzhen = await served(sandbox, A)

    in_hubei = await served(sandbox, C)

    assert in_hubei["status"] == "succeeded"
    assert (await sandbox.client.login(in_shenzhen["id"]))["status"] == "succeeded"


async def test_another_persons_lane_in_the_same_region_does_not_wait(
    sandbox: Sandbox,
) -> None:
    await served(sandbox, A)

    li_si = await served(sandbox, D, "issue")

    assert (li_si["status"], li_si["number"]) == ("succeeded", S3)


async def test_a_number_awaiting_its_code_is_left_to_that_login_by_the_other_lane(
    sandbox: Sandbox,
) -> None:
    async with undelivered(sandbox, S1):
        in_shenzhen = await ask(sandbox, A)
        await reaching(sandbox, in_shenzhen["id"], "waiting_code")

        in_hubei = await served(sandbox, C)
    await deliver_kept(sandbox, S1)
    shenzhen_done = await settled(sandbox, in_shenzhen["id"])

    assert (in_hubei["status"], in_hubei["number"]) == ("succeeded", S2)
    assert (shenzhen_done["status"], shenzhen_done["number"]) == ("succeeded", S1)
