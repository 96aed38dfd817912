"""What the registry API made logs in at the (simulated) bureau, end to end."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from banshui.client import FINAL

from . import bureau, flows
from .cast import WANG_WU, E, F, fresh_number
from .conftest import Caller, calling

if TYPE_CHECKING:
    from conftest import Stack

NEW_PASSWORD = "Wangwu-changed-2026"


async def _log_in(caller: Caller, tax_id: str, business: str) -> dict[str, Any]:
    """Ask for a login and follow it until it settles; its lease is released."""
    asked = await caller.http.post(
        "/api/v1/logins", json={"tax_id": tax_id, "business": business}
    )
    assert asked.status_code == 202, asked.text
    login: dict[str, Any] = asked.json()
    async with asyncio.timeout(20):
        while login["status"] not in FINAL:
            await asyncio.sleep(0.05)
            login = (await caller.http.get(f"/api/v1/logins/{login['id']}")).json()
    await caller.http.post(f"/api/v1/logins/{login['id']}/release")
    return login


async def test_an_account_made_through_the_api_logs_in_with_its_sub_number(
    stack: Stack,
) -> None:
    number = fresh_number()
    await bureau.enterprise(stack, E)
    at_bureau = await bureau.person(stack, WANG_WU)
    await bureau.relation(stack, at_bureau, E, "03")
    await bureau.sub_number(stack, at_bureau, number)

    async with calling(stack) as caller:
        await flows.enterprise(caller.http, E)
        wang = await flows.person(caller.http, WANG_WU)
        await flows.give(caller.http, wang["id"], number)
        made = await flows.account(caller.http, E.tax_id, number, is_default=True)

        login = await _log_in(caller, E.tax_id, "receive")

    assert login["status"] == "succeeded", login
    assert login["account_id"] == made["id"]
    assert login["number"] == number
    assert login["sms_used"] == 1


async def test_after_a_password_change_every_account_of_the_person_logs_in(
    stack: Stack,
) -> None:
    first, second = fresh_number(), fresh_number()
    at_bureau = await bureau.person(stack, WANG_WU, password=NEW_PASSWORD)
    for company, number in ((E, first), (F, second)):
        await bureau.enterprise(stack, company)
        await bureau.relation(stack, at_bureau, company, "03")
        await bureau.sub_number(stack, at_bureau, number)

    async with calling(stack) as caller:
        wang = await flows.person(caller.http, WANG_WU)
        for company, number in ((E, first), (F, second)):
            await flows.enterprise(caller.http, company)
            await flows.give(caller.http, wang["id"], number)
            await flows.account(caller.http, company.tax_id, number)
        refused = await _log_in(caller, E.tax_id, "receive")
        changed = await caller.http.put(
            f"/api/v1/persons/{wang['id']}/password", json={"password": NEW_PASSWORD}
        )
        assert changed.status_code == 204

        # 深圳 and 湖北 are two lanes: each account logs in afresh, on its number.
        in_e = await _log_in(caller, E.tax_id, "receive")
        in_f = await _log_in(caller, F.tax_id, "receive")

    assert refused["status"] == "failed", refused
    assert "密码错误" in refused["reason"]
    assert (in_e["status"], in_e["number"]) == ("succeeded", first), in_e
    assert (in_f["status"], in_f["number"]) == ("succeeded", second), in_f
