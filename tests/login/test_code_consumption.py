"""Each bureau code is handed to one login, once; a late one to none."""

from __future__ import annotations

from banshui.demo.cast import S1, S2, ZHANG_SAN, A, C
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source

from .conftest import (
    CastOn,
    Sandbox,
    Sleeper,
    ask,
    deliver_kept,
    inbox_rows,
    logs_in_by_hand,
    manual_clock,
    reaching,
    served,
    served_and_released,
    settled,
    undelivered,
    violations,
)


async def test_every_code_is_claimed_by_one_login_once(sandbox: Sandbox) -> None:
    await served_and_released(sandbox, A)
    body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
    await sandbox.stack.sim.post("/admin/sessions/drop", json=body)
    await served_and_released(sandbox, A)
    await served_and_released(sandbox, C)

    rows = await inbox_rows(sandbox, S1)

    claims = [row.claimed_by for row in rows]
    assert len(rows) == 3 and None not in claims
    assert len(set(claims)) == 3
    assert len({row.code for row in rows}) == 3
    assert (await violations(sandbox))["code_reused"] == 0


async def test_a_code_that_arrives_after_its_login_gave_up_is_never_handed_on(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock), code_timeout_seconds=0.5) as sandbox:
        async with undelivered(sandbox, S1), undelivered(sandbox, S2):
            gave_up = await served(sandbox, A)
        # Both late codes reach the inbox now, before the next login asks.
        assert await deliver_kept(sandbox, S1) == 1
        assert await deliver_kept(sandbox, S2) == 1
        served_late = await served(sandbox, A)

        assert gave_up["status"] == "failed"
        assert gave_up["reason"] == (
            "no code reached 199****0001 within 0.5 s; "
            "then no code reached 199****0002 within 0.5 s"
        )
        assert (served_late["status"], served_late["sms_used"]) == ("succeeded", 1)
        late, fresh = await inbox_rows(sandbox, S1)
        assert (late.claimed_by, fresh.claimed_by is not None) == (None, True)
        assert [row.claimed_by for row in await inbox_rows(sandbox, S2)] == [None]
        assert (await violations(sandbox))["code_reused"] == 0


async def test_a_lost_code_does_not_cost_the_next_login_its_own(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock), code_timeout_seconds=0.5) as sandbox:
        async with undelivered(sandbox, S1), undelivered(sandbox, S2):
            lost = await served(sandbox, A)
        assert lost["status"] == "failed"

        next_one = await served(sandbox, A)

        assert (next_one["status"], next_one["reason"]) == ("succeeded", None)
        assert next_one["sms_used"] == 1


async def test_a_lost_code_fails_over_to_the_persons_other_number(
    cast_on: CastOn,
) -> None:
    async with cast_on(code_timeout_seconds=0.5) as sandbox:
        async with undelivered(sandbox, S1):
            login = await served(sandbox, A)

        assert (login["status"], login["number"]) == ("succeeded", S2)
        assert login["sms_used"] == 2
        await deliver_kept(sandbox, S1)
        assert [row.claimed_by for row in await inbox_rows(sandbox, S1)] == [None]


async def test_a_number_whose_code_was_lost_rests_for_the_codes_validity(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    sleeper = Sleeper(clock)
    async with cast_on(
        clock, sleeper, code_timeout_seconds=0.5, code_valid_seconds=120
    ) as sandbox:
        async with undelivered(sandbox, S1):
            first = await served_and_released(sandbox, A)
        body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
        await sandbox.stack.sim.post("/admin/sessions/drop", json=body)
        await logs_in_by_hand(sandbox, S2, A, count=19)

        # S1 rests, S2 is spent: the login waits out the rest, then uses S1.
        again = await served(sandbox, A)

        assert (first["number"], again["number"]) == (S2, S1)
        assert again["status"] == "succeeded"
        assert sum(sleeper.slept) >= 120


async def test_a_portal_code_for_adding_a_phone_is_never_taken_for_a_login_code(
    sandbox: Sandbox,
) -> None:
    runtime = sandbox.stack.runtime
    source = await find_source(runtime.db, "smsforwarder", "sim-s1")
    portal = ReceivedSms(
        sender="12366",
        text=(
            "【国家税务总局】您正在自然人电子税务局添加手机号码，验证码：905113，"
            "5分钟内有效，请勿泄露。如非本人操作，请忽略本短信。"
        ),
        identity="portal-905113",
        number=S1,
    )
    async with undelivered(sandbox, S1):
        asked = await ask(sandbox, A)
        await reaching(sandbox, asked["id"], "waiting_code")
        await runtime.inbox.store(source, Verified(None, ""), [portal])
    await deliver_kept(sandbox, S1)

    login = await settled(sandbox, asked["id"])

    assert (login["status"], login["sms_used"]) == ("succeeded", 1)
    kept, code = await inbox_rows(sandbox, S1)
    assert (kept.kind, kept.claimed_by, kept.expectation_id) == (
        "verification",
        None,
        None,
    )
    assert code.claimed_by is not None


async def test_a_used_code_received_again_is_a_copy_that_no_login_gets(
    sandbox: Sandbox,
) -> None:
    runtime = sandbox.stack.runtime
    await served_and_released(sandbox, A)
    (used,) = await inbox_rows(sandbox, S1)
    body = {"id_number": ZHANG_SAN.id_number, "region": A.region}
    await sandbox.stack.sim.post("/admin/sessions/drop", json=body)
    # The same SMS again, as a second gateway of the phone or a resend with a
    # new id would bring it, while the next login awaits its own code.
    again = ReceivedSms(
        sender=used.sender, text=used.text, identity="resent-1", number=S1
    )
    source = await find_source(runtime.db, "smsforwarder", "sim-s1")
    async with undelivered(sandbox, S1):
        asked = await ask(sandbox, A)
        await reaching(sandbox, asked["id"], "waiting_code")
        await runtime.inbox.store(source, Verified(None, ""), [again])
    await deliver_kept(sandbox, S1)

    login = await settled(sandbox, asked["id"])

    assert (login["status"], login["sms_used"]) == ("succeeded", 1)
    first, copy, fresh = await inbox_rows(sandbox, S1)
    assert (copy.code, copy.copy_of_id, copy.claimed_by) == (used.code, first.id, None)
    assert copy.expectation_id is None
    assert fresh.claimed_by is not None and fresh.code != used.code
    assert await runtime.inbox.spent_today(S1) == 2  # the copy is not a third
    assert (await violations(sandbox))["code_reused"] == 0
    claimed = await runtime.inbox.claim_since(S1, first.received_at, "provider:x")
    assert claimed is None
