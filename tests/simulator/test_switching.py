"""R5: a live session switches to another enterprise of the region with no SMS."""

import httpx

from .cast import TAX_A, TAX_B, TAX_C, TAX_D, Cast, relation
from .steps import call, log_in, outbox, session


async def _switch(
    bureau: httpx.AsyncClient, token: str, tax_id: str
) -> dict[str, object]:
    body = {"tax_id": tax_id}
    return await call(bureau, "/api/session/switch", body, {"X-Sim-Session": token})


async def test_switching_enterprise_costs_no_sms(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau, TAX_A)
    sent_before = len(await outbox(bureau))

    answer = await _switch(bureau, token, TAX_B)

    assert answer["code"] == 1000
    assert (await session(bureau, token))["data"]["tax_id"] == TAX_B
    assert len(await outbox(bureau)) == sent_before


async def test_switching_to_an_enterprise_of_another_region_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau, TAX_A)

    answer = await _switch(bureau, token, TAX_C)

    assert answer["code"] == 2034
    assert (await session(bureau, token))["data"]["tax_id"] == TAX_A


async def test_switching_to_an_enterprise_without_a_confirmed_relation_is_refused(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    token = await log_in(bureau, TAX_A)
    refused_without = await _switch(bureau, token, TAX_D)
    await relation(bureau, cast.zhang, TAX_D, "03", confirmed=False)
    refused_unconfirmed = await _switch(bureau, token, TAX_D)

    assert refused_without["code"] == 2034
    assert refused_unconfirmed["code"] == 2034


async def test_the_switchable_enterprises_are_the_confirmed_ones_of_the_region(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await relation(bureau, cast.zhang, TAX_D, "03", confirmed=False)
    token = await log_in(bureau, TAX_A)

    headers = {"X-Sim-Session": token}
    answer = await call(bureau, "/api/session/enterprises", {}, headers)
    listed = answer["data"]["enterprises"]

    assert [(e["tax_id"], e["current"]) for e in listed] == [
        (TAX_A, True),
        (TAX_B, False),
    ]
