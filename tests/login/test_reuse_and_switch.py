"""R5: a live session of the lane is reused, or switched to another enterprise."""

from __future__ import annotations

from banshui.demo.cast import S1, A, B, C

from .conftest import Sandbox, outbox, served_and_released


async def test_a_first_login_costs_one_sms_on_the_accounts_number(
    sandbox: Sandbox,
) -> None:
    login = await served_and_released(sandbox, A)

    assert (login["sms_used"], login["switched"], login["number"]) == (1, False, S1)
    assert len(await outbox(sandbox, S1)) == 1


async def test_asking_again_for_the_same_enterprise_does_no_work(
    sandbox: Sandbox,
) -> None:
    await served_and_released(sandbox, A)

    again = await served_and_released(sandbox, A)

    assert (again["sms_used"], again["switched"], again["number"]) == (0, False, S1)
    assert len(await outbox(sandbox, S1)) == 1


async def test_another_enterprise_of_the_same_region_is_switched_to_without_sms(
    sandbox: Sandbox,
) -> None:
    await served_and_released(sandbox, A)

    to_b = await served_and_released(sandbox, B)
    back_to_a = await served_and_released(sandbox, A)

    assert (to_b["sms_used"], to_b["switched"], to_b["number"]) == (0, True, S1)
    assert (back_to_a["sms_used"], back_to_a["switched"]) == (0, True)
    assert len(await outbox(sandbox, S1)) == 1


async def test_an_enterprise_of_another_region_gets_a_fresh_login(
    sandbox: Sandbox,
) -> None:
    await served_and_released(sandbox, A)

    in_hubei = await served_and_released(sandbox, C)
    back_in_shenzhen = await served_and_released(sandbox, B)

    assert (in_hubei["sms_used"], in_hubei["switched"]) == (1, False)
    # The 深圳 lane kept its session while 湖北 logged in.
    assert (back_in_shenzhen["sms_used"], back_in_shenzhen["switched"]) == (0, True)
    assert len(await outbox(sandbox, S1)) == 2
