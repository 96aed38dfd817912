"""R7: only a confirmed relation logs in; otherwise the reason says what to do."""

from __future__ import annotations

from banshui.demo.cast import S1, ZHANG_SAN, A, Company

from .conftest import Sandbox, outbox, person_at_bureau, served


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


async def test_an_unconfirmed_relation_fails_telling_to_confirm_the_role_first(
    sandbox: Sandbox,
) -> None:
    await _relation(sandbox, A, "03", confirmed=False)

    login = await served(sandbox, A)

    assert login["status"] == "failed"
    assert "确认办税身份" in login["reason"]
    assert (login["sms_used"], await outbox(sandbox, S1)) == (0, [])


async def test_another_confirmed_identity_does_not_stand_in_for_the_accounts_own(
    sandbox: Sandbox,
) -> None:
    # 张三 is also a confirmed 开票员 of A, but the account logs in as 办税员.
    await _relation(sandbox, A, "09", confirmed=True)
    await _relation(sandbox, A, "03", confirmed=False)

    login = await served(sandbox, A)

    assert login["status"] == "failed"
    assert "(03)" in login["reason"] and "R7" in login["reason"]
