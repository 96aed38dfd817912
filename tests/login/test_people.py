"""People in the loop (DESIGN §5.10): a typed code, a face check, a slider."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.accounts.service import Registry, Service
from banshui.audit.models import AuditEntry
from banshui.demo.cast import LI_SI, ZHANG_SAN, A, D

from .conftest import (
    CastOn,
    Recorder,
    Sandbox,
    Sleeper,
    ask,
    manual_clock,
    outbox,
    person_at_bureau,
    reaching,
    settled,
)

REAL_PHONE = ZHANG_SAN.real_phone


async def _phone_account(sandbox: Sandbox) -> int:
    """张三's account on his own phone: its code reaches him, not banshui (R6)."""
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    async with runtime.db.session() as session:
        zhang = await session.scalar(
            select(Person.id).where(Person.name == ZHANG_SAN.name)
        )
    assert zhang is not None
    await registry.give_number(zhang, REAL_PHONE, is_sub_number=False, actor="test")
    services = [Service(A.tax_id, "03", "receive")]
    account = await registry.add_account(
        sandbox.tenant_id, zhang, REAL_PHONE, services, "phone", actor="test"
    )
    return account.id


async def _code_sent_to(sandbox: Sandbox, phone: str) -> str:
    text = (await outbox(sandbox, phone))[-1]["text"]
    found = re.search(r"[0-9]{6}", text)
    assert found is not None, text
    return found.group()


async def _type(sandbox: Sandbox, login_id: str, code: str) -> httpx.Response:
    return await sandbox.stack.http.post(
        f"/api/v1/logins/{login_id}/code",
        json={"code": code},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )


async def _waiting_for_typed_code(sandbox: Sandbox) -> dict[str, Any]:
    asked = await ask(sandbox, A, account_id=await _phone_account(sandbox))
    return await reaching(sandbox, asked["id"], "waiting_person")


async def test_an_account_whose_code_goes_to_a_phone_waits_for_the_person_to_type_it(
    cast_on: CastOn,
) -> None:
    events = Recorder()
    async with cast_on(events=events) as sandbox:
        waiting = await _waiting_for_typed_code(sandbox)
        assert waiting["waiting_for"] == "code"
        assert "138****8000" in waiting["reason"]
        assert f"/api/v1/logins/{waiting['id']}/code" in waiting["reason"]

        typed = await _type(
            sandbox, waiting["id"], await _code_sent_to(sandbox, REAL_PHONE)
        )
        login = await settled(sandbox, waiting["id"])

        assert typed.status_code == 200
        assert (login["status"], login["number"], login["sms_used"]) == (
            "succeeded",
            REAL_PHONE,
            1,
        )
        (told,) = events.of("person.needed")
        assert (told["what"], told["login_id"]) == ("code", waiting["id"])


async def test_a_typed_code_is_used_once(cast_on: CastOn) -> None:
    async with cast_on() as sandbox:
        waiting = await _waiting_for_typed_code(sandbox)
        code = await _code_sent_to(sandbox, REAL_PHONE)

        first = await _type(sandbox, waiting["id"], code)
        await settled(sandbox, waiting["id"])
        again = await _type(sandbox, waiting["id"], code)

        assert (first.status_code, again.status_code) == (200, 409)
        assert again.json()["error"]["code"] == "conflict"
        async with sandbox.stack.runtime.db.session() as session:
            typed = list(
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "login.code_typed")
                )
            )
        assert [entry.subject for entry in typed] == [f"login:{waiting['id']}"]


async def test_a_login_that_waits_for_no_typed_code_refuses_one_with_409(
    cast_on: CastOn,
) -> None:
    async with cast_on() as sandbox:
        login = await settled(sandbox, (await ask(sandbox, A))["id"])

        typed = await _type(sandbox, login["id"], "123456")

        assert typed.status_code == 409


async def test_a_malformed_typed_code_is_refused_naming_the_code(
    cast_on: CastOn,
) -> None:
    async with cast_on() as sandbox:
        waiting = await _waiting_for_typed_code(sandbox)

        typed = await _type(sandbox, waiting["id"], "12ab56")

        assert typed.status_code == 422
        assert typed.json()["error"]["field"] == "code"
        current = await sandbox.client.login(waiting["id"])
        assert current["status"] == "waiting_person"


async def test_a_code_nobody_types_fails_the_login_at_its_deadline(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(clock, Sleeper(clock, real_seconds=0.005)) as sandbox:
        asked = await ask(sandbox, A, account_id=await _phone_account(sandbox))
        login = await settled(sandbox, asked["id"])

        assert login["status"] == "failed"
        assert login["reason"].startswith(
            "nobody typed the code the bureau sent to 138****8000 before the deadline"
        )


# R14: the issuer's face check.


async def _face_check_on_issue_for_li(sandbox: Sandbox) -> None:
    body = {
        "person_id": await person_at_bureau(sandbox, LI_SI),
        "tax_id": D.tax_id,
        "identity_code": "09",
        "confirmed": True,
        "face_check_on_issue": True,
    }
    (await sandbox.stack.sim.post("/admin/relations", json=body)).raise_for_status()


async def _face_checks(sandbox: Sandbox) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        await sandbox.stack.sim.get("/admin/face-checks")
    ).json()["face_checks"]
    return listed


async def test_issuing_waits_for_the_issuers_face_check_and_then_succeeds(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(
        clock, Sleeper(clock, real_seconds=0.05), login_deadline_seconds=7200
    ) as sandbox:
        await _face_check_on_issue_for_li(sandbox)
        asked = await ask(sandbox, D, "issue")
        waiting = await reaching(sandbox, asked["id"], "waiting_person")
        (check,) = await _face_checks(sandbox)

        await sandbox.stack.sim.post(
            f"/admin/face-checks/{check['face_check_id']}/approve"
        )
        login = await settled(sandbox, asked["id"])

        assert waiting["waiting_for"] == "face_check"
        assert f"/face-checks/{check['face_check_id']}" in waiting["reason"]
        assert "R14" in waiting["reason"]
        assert (login["status"], login["sms_used"]) == ("succeeded", 1)


async def test_a_face_check_not_passed_by_the_deadline_fails_naming_it(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    sleeper = Sleeper(clock, real_seconds=0.005)
    async with cast_on(clock, sleeper) as sandbox:
        await _face_check_on_issue_for_li(sandbox)

        login = await settled(sandbox, (await ask(sandbox, D, "issue"))["id"])

        assert login["status"] == "failed"
        assert login["reason"].startswith("the issuer's face check (")
        assert "was not passed (R14) before the deadline" in login["reason"]
        # Checked again with back-off: soon at first, then every half minute.
        assert sleeper.slept[:5] == [2.0, 4.0, 8.0, 16.0, 30.0]


# R12: a slider before the code.


async def _slider_region(sandbox: Sandbox) -> None:
    body = {"login": "slider_sms"}
    (
        await sandbox.stack.sim.put(f"/admin/regions/{A.region}", json=body)
    ).raise_for_status()


async def test_the_simulated_slider_is_passed_by_the_driver(cast_on: CastOn) -> None:
    async with cast_on() as sandbox:
        await _slider_region(sandbox)

        login = await settled(sandbox, (await ask(sandbox, A))["id"])

        assert (login["status"], login["sms_used"]) == ("succeeded", 1)


async def test_a_slider_the_driver_may_not_pass_goes_to_a_person(
    cast_on: CastOn,
) -> None:
    clock = manual_clock()
    async with cast_on(
        clock,
        Sleeper(clock, real_seconds=0.05),
        solve_slider=False,
        login_deadline_seconds=7200,
    ) as sandbox:
        await _slider_region(sandbox)
        asked = await ask(sandbox, A)
        waiting = await reaching(sandbox, asked["id"], "waiting_person")
        found = re.search(r"login flow (\w+) \(challenge (\w+)\)", waiting["reason"])
        assert found is not None, waiting["reason"]
        flow_id, challenge = found.groups()

        # The person drags the slider on the site's page.
        sim = sandbox.stack.sim
        answer = (await sim.get(f"/api/login/slider/{challenge}")).json()["data"]
        form = {"offset": answer["offset"]}
        dragged = await sim.post(f"/login/flow/{flow_id}/slider", data=form)
        assert dragged.status_code == 303, dragged.text
        login = await settled(sandbox, asked["id"])

        assert waiting["waiting_for"] == "slider"
        assert (login["status"], login["sms_used"]) == ("succeeded", 1)


async def test_a_region_that_opens_the_session_after_the_password_costs_no_sms(
    cast_on: CastOn,
) -> None:
    async with cast_on() as sandbox:
        body = {"login": "session"}
        await sandbox.stack.sim.put(f"/admin/regions/{A.region}", json=body)

        login = await settled(sandbox, (await ask(sandbox, A))["id"])

        assert (login["status"], login["sms_used"]) == ("succeeded", 0)
        assert await outbox(sandbox, login["number"]) == []
