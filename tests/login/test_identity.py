"""R7: only a confirmed relation logs in; until then a person is asked to confirm it."""

from __future__ import annotations

from datetime import datetime

from banshui.demo.cast import S1, ZHANG_SAN, A, Company

from .conftest import (
    CastOn,
    Recorder,
    Sandbox,
    Sleeper,
    api_get,
    ask,
    manual_clock,
    outbox,
    person_at_bureau,
    reaching,
    served,
    settled,
)


async def _relation(
    sandbox: Sandbox, company: Company, identity_code: str, confirmed: bool
) -> None:
    body = {
        "person_id": await person_at_bureau(sandbox, ZHANG_SAN),
        "tax_id": company.tax_id,
        "identity_code": identity_code,
        "confirmed": confirmed,
    }
    (await sandbox.stack.sim.post("/admin/relations", json=body)).raise_for_status()


async def _statuses(sandbox: Sandbox, login_id: str) -> list[str]:
    events = await api_get(sandbox, f"/api/v1/logins/{login_id}/timeline")
    return [event["status"] for event in events]


async def test_an_unconfirmed_relation_fails_at_the_deadline_telling_to_confirm_it(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock, real_seconds=0.005)) as sandbox:
        await _relation(sandbox, A, "03", confirmed=False)

        login = await served(sandbox, A)

        assert login["status"] == "failed"
        assert "确认办税身份" in login["reason"]
        assert "before the deadline" in login["reason"]
        assert (login["sms_used"], await outbox(sandbox, S1)) == (0, [])
        assert "waiting_person" in await _statuses(sandbox, login["id"])


async def test_waiting_for_a_confirmation_shows_what_to_do_and_tells_the_person(
    cast_on: CastOn,
) -> None:
    clock, events = manual_clock(), Recorder()
    async with cast_on(
        clock, Sleeper(clock, real_seconds=0.05), events=events
    ) as sandbox:
        await _relation(sandbox, A, "03", confirmed=False)

        asked = await ask(sandbox, A)
        waiting = await reaching(sandbox, asked["id"], "waiting_person")

        assert waiting["waiting_for"] == "identity"
        assert "confirm the role (03 办税员)" in waiting["reason"]
        before = datetime.fromisoformat(waiting["reason"].rsplit("before ", 1)[1])
        deadline = datetime.fromisoformat(waiting["deadline"])
        assert before == deadline.replace(microsecond=0)
        (told,) = events.of("person.needed")
        assert (told["login_id"], told["person"], told["what"]) == (
            asked["id"],
            ZHANG_SAN.name,
            "identity",
        )


async def test_a_role_confirmed_while_the_login_waits_lets_it_go_on(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(
        clock, Sleeper(clock, real_seconds=0.05), login_deadline_seconds=7200
    ) as sandbox:
        await _relation(sandbox, A, "03", confirmed=False)
        asked = await ask(sandbox, A)
        await reaching(sandbox, asked["id"], "waiting_person")

        await _relation(sandbox, A, "03", confirmed=True)
        login = await settled(sandbox, asked["id"])

        assert (login["status"], login["sms_used"], login["reason"]) == (
            "succeeded",
            1,
            None,
        )
        assert login["waiting_for"] is None


async def test_another_confirmed_identity_does_not_stand_in_for_the_accounts_own(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock, real_seconds=0.005)) as sandbox:
        # 张三 is also a confirmed 开票员 of A, but the account logs in as 办税员.
        await _relation(sandbox, A, "09", confirmed=True)
        await _relation(sandbox, A, "03", confirmed=False)

        login = await served(sandbox, A)

        assert login["status"] == "failed"
        assert "(03 办税员)" in login["reason"] and "R7" in login["reason"]
        # The code was spent once; re-checking the identity spends no more.
        assert login["sms_used"] == 1
