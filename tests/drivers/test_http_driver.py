"""The http driver reads each bureau answer into the driver protocol (R7, R12, R14)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from banshui.demo.cast import LI_SI, S1, S3, ZHANG_SAN, A, D
from banshui.drivers.base import BureauError, FaceCheck, Failure, SessionHandle, Step
from banshui.drivers.http import HttpDriver
from banshui.drivers.http.driver import read_refusal

if TYPE_CHECKING:
    from conftest import Sandbox


@pytest.fixture
async def driver(sandbox: Sandbox) -> AsyncIterator[HttpDriver]:
    made = HttpDriver(f"{sandbox.stack.url}/sim", solve_simulated_slider=True)
    yield made
    await made.close()


@pytest.fixture
async def person_driver(sandbox: Sandbox) -> AsyncIterator[HttpDriver]:
    made = HttpDriver(f"{sandbox.stack.url}/sim", solve_simulated_slider=False)
    yield made
    await made.close()


async def _admin(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    response = await sandbox.stack.sim.request(method, path, json=body)
    response.raise_for_status()
    return response.json()


async def _region(sandbox: Sandbox, login: str) -> None:
    await _admin(sandbox, "PUT", f"/admin/regions/{A.region}", {"login": login})


async def _person(sandbox: Sandbox, id_number: str) -> str:
    return str(
        (await _admin(sandbox, "GET", f"/admin/persons/{id_number}"))["person_id"]
    )


async def _start_a(driver: HttpDriver) -> Any:
    return await driver.start(A.region, A.tax_id, S1, ZHANG_SAN.password)


async def test_an_sms_region_waits_for_the_code(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    flow = await _start_a(driver)

    assert (flow.step, flow.needs_code) == (Step.CODE, True)


async def test_a_session_region_lists_identities_and_needs_no_code(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    await _region(sandbox, "session")

    flow = await _start_a(driver)

    assert (flow.step, flow.needs_code) == (Step.IDENTITY, False)
    assert A.tax_id in [identity.tax_id for identity in flow.identities]


async def test_a_simulated_slider_is_passed_on_the_way_to_the_code(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    await _region(sandbox, "slider_sms")

    flow = await _start_a(driver)
    await driver.send_code(flow)

    assert flow.step is Step.CODE


async def test_a_slider_left_to_a_person_says_so_and_holds_back_the_code(
    sandbox: Sandbox, person_driver: HttpDriver
) -> None:
    await _region(sandbox, "slider_sms")

    flow = await _start_a(person_driver)
    with pytest.raises(BureauError) as refused:
        await person_driver.send_code(flow)

    assert (flow.step, flow.slider_id is not None) == (Step.SLIDER, True)
    assert refused.value.failure is Failure.SLIDER_REQUIRED


async def test_an_unconfirmed_identity_is_told_apart_from_no_relation(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    zhang = await _person(sandbox, ZHANG_SAN.id_number)
    body = {"person_id": zhang, "tax_id": A.tax_id, "identity_code": "03"}
    await _admin(sandbox, "POST", "/admin/relations", {**body, "confirmed": False})

    with pytest.raises(BureauError) as unconfirmed:
        await _start_a(driver)
    with pytest.raises(BureauError) as unrelated:
        await driver.start(D.region, D.tax_id, S1, ZHANG_SAN.password)

    assert unconfirmed.value.failure is Failure.UNCONFIRMED_IDENTITY
    assert unrelated.value.failure is Failure.NO_RELATION


async def _li_issuing_flow(sandbox: Sandbox, driver: HttpDriver) -> Any:
    li = await _person(sandbox, LI_SI.id_number)
    body = {
        "person_id": li,
        "tax_id": D.tax_id,
        "identity_code": "09",
        "confirmed": True,
        "face_check_on_issue": True,
    }
    await _admin(sandbox, "POST", "/admin/relations", body)
    flow = await driver.start(D.region, D.tax_id, S3, LI_SI.password)
    await driver.send_code(flow)
    outbox = await _admin(sandbox, "GET", f"/admin/outbox?phone={S3}")
    code = outbox["sms"][-1]["text"].split("：")[1][:6]
    return await driver.submit_code(flow, code)


async def test_issuing_with_a_face_check_hands_over_the_qr_code_first(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    flow = await _li_issuing_flow(sandbox, driver)

    check = await driver.choose_identity(flow, D.tax_id, "09", "issue")
    assert isinstance(check, FaceCheck)
    with pytest.raises(BureauError) as pending:
        await driver.session_after_face_check(check)
    passed_before = await driver.face_check_passed(check)
    await _admin(sandbox, "POST", f"/admin/face-checks/{check.face_check_id}/approve")
    session = await driver.session_after_face_check(check)

    assert check.qr_url.endswith(f"/face-checks/{check.face_check_id}")
    assert pending.value.failure is Failure.FACE_CHECK_PENDING
    assert passed_before is False and await driver.face_check_passed(check)
    assert isinstance(session, SessionHandle) and session.tax_id == D.tax_id


async def test_a_5xx_is_read_as_the_bureau_being_unavailable(
    sandbox: Sandbox, driver: HttpDriver
) -> None:
    await _admin(sandbox, "PUT", "/admin/faults", {"error_5xx": 1.0})

    with pytest.raises(BureauError) as unavailable:
        await _start_a(driver)

    assert unavailable.value.failure is Failure.UNAVAILABLE
    assert unavailable.value.transient


@pytest.mark.parametrize(
    ("code", "message", "failure"),
    [
        (2050, "滑块验证未通过，请重新拖动滑块完成验证", Failure.SLIDER_FAILED),
        (2060, "所查询的自然人信息不存在", Failure.PERSON_NOT_FOUND),
        (2070, "姓名证件手机号不匹配。", Failure.REAL_NAME_MISMATCH),
        (2080, "人脸识别认证尚未完成", Failure.FACE_CHECK_PENDING),
        (2101, "请先完成滑块验证", Failure.SLIDER_REQUIRED),
        (2101, "登录流程不存在或已失效，请重新登录", Failure.UNKNOWN_FLOW),
        (2034, "您与该企业不存在关联关系", Failure.NO_RELATION),
        (2034, "您在该企业的办税身份尚未确认", Failure.UNCONFIRMED_IDENTITY),
        (9999, "?", Failure.UNAVAILABLE),
    ],
)
def test_each_bureau_code_is_read_as_its_failure(
    code: int, message: str, failure: Failure
) -> None:
    answer = httpx.Response(
        200,
        json={"code": code, "message": message},
        request=httpx.Request("POST", "http://bureau/api/login/password"),
    )

    refused = read_refusal(answer)

    assert (refused.failure, refused.code) == (failure, code)
    assert refused.transient is (
        failure in (Failure.PERSON_NOT_FOUND, Failure.UNAVAILABLE)
    )
