"""The password step refuses in the site's order and then asks for the SMS step."""

import httpx

from .cast import LI_ID, S1, S3, TAX_A, TAX_D, ZHANG_PASSWORD, Cast
from .steps import password_step
from .tpass import tpass


async def test_the_password_step_asks_for_the_sms_step_and_masks_the_phone(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau, TAX_A, S1, ZHANG_PASSWORD)

    assert answer["code"] == 1000
    assert answer["data"]["next"] == "sms"
    assert answer["data"]["phone_masked"] == "131****0001"
    assert answer["data"]["flow_id"]


async def test_an_unknown_tax_id_is_refused_with_2018(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau, "91440300MA5F999999")

    assert answer == {"code": 2018, "message": answer["message"]}
    assert "纳税人识别号有误" in answer["message"]


async def test_a_malformed_tax_id_is_refused_with_2018(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    assert (await password_step(bureau, "12345"))["code"] == 2018
    assert (await password_step(bureau, ""))["code"] == 2018


async def test_an_account_nobody_has_is_refused_with_2059(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    by_phone = await password_step(bureau, TAX_A, "13700000000")
    by_id_number = await password_step(bureau, TAX_A, "110101200001011234")
    by_anything = await password_step(bureau, TAX_A, "zhangsan")

    assert by_phone == {"code": 2059, "message": "用户未注册"}
    assert by_id_number["code"] == 2059
    assert by_anything["code"] == 2059


async def test_a_wrong_password_is_refused_with_2035(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau, TAX_A, S1, "not-his-password")

    assert answer == {"code": 2035, "message": "账号或密码错误"}


async def test_a_person_without_relation_to_the_enterprise_is_refused_with_2034(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau, TAX_A, S3, "Li#2026")

    assert answer["code"] == 2034
    assert "确认" in answer["message"]


async def test_the_id_number_is_read_without_regard_to_the_case_of_its_x(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await password_step(bureau, TAX_D, LI_ID.lower(), "Li#2026")

    assert answer["code"] == 1000


async def test_a_body_missing_a_field_is_a_client_error_not_a_business_one(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    response = await tpass(bureau).post("/api/login/password", {"tax_id": TAX_A})

    assert response.status_code == 422
