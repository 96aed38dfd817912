"""Faults (DESIGN §5.9): transient answers retried, 5xx around a step's effect, codes
refused, and the deadline; every failure names its cause."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from banshui.demo.cast import S1, S2, A, B
from banshui.simulator.faults import Switches
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source

from .conftest import (
    CastOn,
    Recorder,
    Sandbox,
    Sleeper,
    ask,
    bureau_of,
    hold,
    logs_in_by_hand,
    manual_clock,
    outbox,
    reaching,
    served,
    settled,
    undelivered,
    violations,
)


def _script_outages(sandbox: Sandbox, *sides: str | None) -> None:
    """The bureau's next login steps answer 503 as scripted (before/after/None)."""
    script: Iterator[str | None] = iter(sides)
    faults = bureau_of(sandbox).state.faults
    faults.outage = lambda: next(script, None)  # type: ignore[method-assign]


def _banshui_sms(sms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in sms if item["cause"] == "banshui"]


async def _switch_on(sandbox: Sandbox, **switches: Any) -> None:
    response = await sandbox.stack.sim.put("/admin/faults", json=switches)
    response.raise_for_status()


async def test_a_transient_person_not_found_is_retried_with_back_off(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()

    class Healing(Sleeper):
        async def __call__(self, seconds: float) -> None:
            # The provincial bureau catches up while banshui waits (R11).
            bureau_of(sandbox).state.faults.switches = Switches()
            await super().__call__(seconds)

    async with cast_on(clock, Healing(clock)) as sandbox:
        await _switch_on(sandbox, person_not_found=1.0)

        login = await served(sandbox, A)

        assert (login["status"], login["sms_used"]) == ("succeeded", 1)
        fired = (await sandbox.stack.sim.get("/admin/faults/fired")).json()
        assert [item["fault"] for item in fired] == ["person_not_found"]


async def test_a_person_the_bureau_keeps_not_finding_fails_naming_r11(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    sleeper = Sleeper(clock, real_seconds=0.005)
    async with cast_on(clock, sleeper) as sandbox:
        await _switch_on(sandbox, person_not_found=1.0)

        login = await served(sandbox, A)

        assert login["status"] == "failed"
        assert login["reason"] == (
            "the bureau kept failing the password step: person_not_found (2060 "
            "所查询的自然人信息不存在，请核验输入信息是否有误) after 5 tries (R11)"
        )
        assert sleeper.slept == [0.25, 0.5, 1.0, 2.0]


async def test_a_bureau_that_keeps_answering_5xx_fails_naming_it(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock, real_seconds=0.005)) as sandbox:
        await _switch_on(sandbox, error_5xx=1.0)

        login = await served(sandbox, A)

        assert login["status"] == "failed"
        assert login["reason"] == (
            "the bureau kept failing the password step: unavailable (HTTP 503) "
            "after 5 tries"
        )
        assert "internal error" not in login["reason"]


async def test_a_code_sent_before_a_5xx_is_awaited_and_not_asked_again(
    sandbox: Sandbox,
) -> None:
    _script_outages(sandbox, None, "after")

    login = await served(sandbox, A)

    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        S1,
        1,
    )
    assert len(_banshui_sms(await outbox(sandbox, S1))) == 1


async def test_a_5xx_before_the_code_went_out_costs_one_fresh_code_elsewhere(
    cast_on: CastOn,
) -> None:
    # Long enough for S2's code to arrive on a busy machine (two suites at once).
    async with cast_on(code_timeout_seconds=2) as sandbox:
        _script_outages(sandbox, None, "before")

        login = await served(sandbox, A)

        # The awaited code counted: nobody can tell a 5xx that sent nothing.
        assert (login["status"], login["number"], login["sms_used"]) == (
            "succeeded",
            S2,
            2,
        )
        assert _banshui_sms(await outbox(sandbox, S1)) == []


async def test_a_code_taken_before_a_5xx_is_not_submitted_again(
    sandbox: Sandbox,
) -> None:
    _script_outages(sandbox, None, None, "after")

    login = await served(sandbox, A)

    assert (login["status"], login["sms_used"]) == ("succeeded", 1)
    assert (await violations(sandbox))["code_reused"] == 0


async def test_a_code_a_5xx_kept_from_the_bureau_is_submitted_once_more(
    sandbox: Sandbox,
) -> None:
    _script_outages(sandbox, None, None, "before")

    login = await served(sandbox, A)

    assert (login["status"], login["sms_used"]) == ("succeeded", 1)
    assert (await violations(sandbox))["code_reused"] == 0


async def test_a_session_opened_behind_a_5xx_is_replaced_by_a_fresh_login(
    sandbox: Sandbox,
) -> None:
    _script_outages(sandbox, None, None, None, "after")

    login = await served(sandbox, A)
    await hold(sandbox, login["id"], True)

    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        S1,
        2,
    )
    assert (await violations(sandbox))["total"] == 0


async def _wrong_code_reaches(sandbox: Sandbox, number: str, code: str) -> None:
    """A bureau-looking code that is not the one asked for reaches the number."""
    runtime = sandbox.stack.runtime
    source = await find_source(runtime.db, "smsforwarder", "sim-s1")
    text = f"【深圳税务】您的验证码是：{code}（有效期为5分钟），请勿泄露。"
    sms = ReceivedSms(
        sender="12366", text=text, identity=f"wrong-{code}", number=number
    )
    await runtime.inbox.store(source, Verified(None, ""), [sms])


async def test_a_wrong_code_gets_one_fresh_code(sandbox: Sandbox) -> None:
    async with undelivered(sandbox, S1):
        asked = await ask(sandbox, A)
        await reaching(sandbox, asked["id"], "waiting_code")
    await _wrong_code_reaches(sandbox, S1, "000000")

    login = await settled(sandbox, asked["id"])

    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        S1,
        2,
    )
    assert (await violations(sandbox))["code_reused"] == 0


async def _awaiting_second_code(sandbox: Sandbox, login_id: str) -> None:
    async with asyncio.timeout(5):
        while True:
            login = await sandbox.client.login(login_id)
            if (login["status"], login["sms_used"]) == ("waiting_code", 2):
                return
            await asyncio.sleep(0.02)


async def test_a_second_wrong_code_fails_naming_both(sandbox: Sandbox) -> None:
    async with undelivered(sandbox, S1):
        asked = await ask(sandbox, A)
        await reaching(sandbox, asked["id"], "waiting_code")
        await _wrong_code_reaches(sandbox, S1, "000000")
        await _awaiting_second_code(sandbox, asked["id"])
        await _wrong_code_reaches(sandbox, S1, "000001")

        login = await settled(sandbox, asked["id"])

    assert login["status"] == "failed"
    assert login["reason"].count("the bureau refused the code sent to 199****0001") == 2
    assert login["sms_used"] == 2


async def test_the_deadline_ends_a_login_waiting_for_its_lane(cast_on: CastOn) -> None:
    # Long enough for the first login (its driver's SM2 key exchange included)
    # on a busy machine; the second waits for the lane past it all the same.
    async with cast_on(login_deadline_seconds=6.0) as sandbox:
        first = await served(sandbox, A)
        waiting = await ask(sandbox, B)

        login = await settled(sandbox, waiting["id"])

        assert first["status"] == "succeeded"
        assert login["status"] == "failed"
        assert "passed while waiting for the lane of 张三" in login["reason"]


async def test_a_number_reaching_18_codes_today_is_announced_once(
    cast_on: CastOn,
) -> None:
    events = Recorder()
    async with cast_on(events=events) as sandbox:
        await logs_in_by_hand(sandbox, S1, A, count=17)

        await served(sandbox, A)

        (nearly,) = events.of("quota.nearly_exhausted")
        assert (nearly["number"], nearly["used"], nearly["limit"]) == (S1, 18, 20)
        assert nearly["tenant_id"] == sandbox.tenant_id
