"""Phones: one owner each (R1), one password for all (R2), where codes go (R6)."""

import httpx

from .cast import (
    LI_PASSWORD,
    S1,
    S2,
    TAX_A,
    TAX_D,
    ZHANG_ID,
    ZHANG_PASSWORD,
    ZHANG_REAL,
    Cast,
    admin,
    phone,
)
from .steps import outbox, password_step, send_code, start


async def test_every_phone_of_a_person_logs_in_with_the_same_password(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    for account in (S1, S2, ZHANG_REAL, ZHANG_ID):
        answer = await password_step(bureau, TAX_A, account, ZHANG_PASSWORD)
        assert answer["code"] == 1000, account

    for account in (S1, S2):
        answer = await password_step(bureau, TAX_A, account, "an-old-password")
        assert answer["code"] == 2035, account


async def test_a_phone_added_for_another_person_leaves_its_first_owner(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await phone(bureau, cast.li, S1)

    assert answer["moved_from"] == cast.zhang
    assert (await password_step(bureau, TAX_A, S1, ZHANG_PASSWORD))["code"] == 2035
    assert (await password_step(bureau, TAX_D, S1, LI_PASSWORD))["code"] == 1000
    assert (await password_step(bureau, TAX_A, S2, ZHANG_PASSWORD))["code"] == 1000


async def test_adding_a_phone_again_for_its_owner_moves_nothing(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await phone(bureau, cast.zhang, S1)

    assert answer["moved_from"] is None
    assert (await password_step(bureau, TAX_A, S1, ZHANG_PASSWORD))["code"] == 1000


async def test_logging_in_with_a_sub_number_sends_the_code_to_that_number(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await send_code(bureau, await start(bureau, TAX_A, S2))

    sent = await outbox(bureau)
    assert [sms["phone"] for sms in sent] == [S2]


async def test_logging_in_with_the_id_number_sends_the_code_to_the_default_phone(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau, TAX_A, ZHANG_ID, ZHANG_PASSWORD)
    await send_code(bureau, answer["data"]["flow_id"])

    assert answer["data"]["phone_masked"] == "138****0001"
    sent = await outbox(bureau)
    assert [sms["phone"] for sms in sent] == [ZHANG_REAL]


async def test_a_person_without_a_default_phone_cannot_log_in_by_id_number(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await phone(bureau, cast.li, ZHANG_REAL)

    answer = await password_step(bureau, TAX_A, ZHANG_ID, ZHANG_PASSWORD)

    assert answer["code"] == 2059
    assert (await password_step(bureau, TAX_A, S1, ZHANG_PASSWORD))["code"] == 1000


async def test_a_phone_is_accepted_with_the_country_code_and_stored_plain(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await phone(bureau, cast.zhang, "+8613100000009")

    assert answer["phone"] == "13100000009"
    assert (await password_step(bureau, TAX_A, "13100000009"))["code"] == 1000


async def test_a_phone_for_an_unknown_person_is_refused_with_404(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"person_id": "P9999", "phone": "13100000009"}
    response = await bureau.post("/admin/phones", json=body)

    assert response.status_code == 404
    assert "P9999" in response.json()["detail"]
    assert (await admin(bureau, "GET", "/admin/outbox"))["sms"] == []
