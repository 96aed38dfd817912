"""R6: logging in with the sub-number as the account sends the code to the
sub-number, where banshui reads it; the person's default phone gets nothing."""

from __future__ import annotations

from banshui.demo.cast import S1, ZHANG_SAN, A

from .conftest import Sandbox, inbox_rows, outbox, served


async def test_a_login_with_a_sub_number_gets_its_code_there_not_on_the_default_phone(
    sandbox: Sandbox,
) -> None:
    at_bureau = await sandbox.stack.sim.get(f"/admin/persons/{ZHANG_SAN.id_number}")
    assert at_bureau.json()["default_phone"] == ZHANG_SAN.real_phone

    login = await served(sandbox, A)

    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        S1,
        1,
    )
    (sent,) = await outbox(sandbox, S1)
    assert await outbox(sandbox, ZHANG_SAN.real_phone) == []
    (read,) = await inbox_rows(sandbox, S1)
    assert read.code is not None and read.code in sent["text"]
    assert read.claimed_by is not None
