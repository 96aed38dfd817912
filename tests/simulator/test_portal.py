"""R15: a phone is added at the natural-person portal with a code and a face check.

The phone moves from its previous owner (R1); Shanghai refuses it (R10).
"""

import httpx

from .cast import (
    LI_ID,
    LI_PASSWORD,
    S1,
    S3,
    SHENZHEN,
    TAX_A,
    TAX_D,
    ZHANG_ID,
    ZHANG_PASSWORD,
    ZHANG_REAL,
    Cast,
    admin,
)
from .gateway import Gateway
from .portal import (
    SHANGHAI,
    approve,
    ask_to_add,
    person,
    phones_of,
    request_status,
    type_code,
    up_to_face_check,
)
from .steps import code_in, outbox, password_step, send_code, start

NEW = "13100000009"


async def test_a_phone_is_added_after_its_code_and_the_face_check(
    bureau: httpx.AsyncClient, cast: Cast, gateway: Gateway
) -> None:
    route = {"url": gateway.url, "kind": "smsforwarder", "secret": "s"}
    await admin(bureau, "PUT", f"/admin/deliveries/{S1}", route)
    li = {"id_number": LI_ID, "password": LI_PASSWORD}

    asked = await ask_to_add(bureau, S1, SHENZHEN, **li)
    request_id = asked["data"]["request_id"]
    [post] = await gateway.wait_for(1)
    code = code_in(post["content"].split("\n")[1])
    typed = await type_code(bureau, request_id, code)
    pending = await request_status(bureau, request_id)
    zhang_before = phones_of(await person(bureau, cast.zhang))
    approved = await approve(bureau, typed["data"]["face_check_id"])
    added = await request_status(bureau, request_id)

    assert asked["data"]["next"] == "code"
    assert asked["data"]["phone_masked"] == "131****0001"
    assert typed["data"]["next"] == "face_check"
    assert typed["data"]["qr_url"].endswith(
        f"/face-checks/{typed['data']['face_check_id']}"
    )
    assert pending["status"] == "face_check"
    assert S1 in zhang_before
    assert (approved["status"], approved["purpose"]) == ("approved", "add_phone")
    assert added["status"] == "added"
    assert phones_of(await person(bureau, cast.li))[S1] is False
    assert S1 not in phones_of(await person(bureau, cast.zhang))


async def test_the_added_phone_logs_in_with_the_persons_password(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    _, face_check_id = await up_to_face_check(bureau, NEW, SHENZHEN)
    before = await password_step(bureau, TAX_A, NEW, ZHANG_PASSWORD)
    await approve(bureau, face_check_id)

    after = await password_step(bureau, TAX_A, NEW, ZHANG_PASSWORD)

    assert before["code"] == 2059
    assert after["code"] == 1000


async def test_adding_anothers_phone_moves_it_from_them(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    li = {"id_number": LI_ID, "password": LI_PASSWORD}
    _, face_check_id = await up_to_face_check(bureau, S1, SHENZHEN, **li)
    still_zhangs = phones_of(await person(bureau, cast.zhang))

    await approve(bureau, face_check_id)

    assert S1 in still_zhangs
    assert S1 not in phones_of(await person(bureau, cast.zhang))
    assert phones_of(await person(bureau, cast.li)) == {
        "13900000002": True,
        S3: False,
        S1: False,
    }
    assert (await password_step(bureau, TAX_A, S1, ZHANG_PASSWORD))["code"] == 2035
    assert (await password_step(bureau, TAX_D, S1, LI_PASSWORD))["code"] == 1000


async def test_a_phone_added_as_default_becomes_the_default(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    _, face_check_id = await up_to_face_check(bureau, NEW, SHENZHEN, default=True)
    await approve(bureau, face_check_id)

    answer = await password_step(bureau, TAX_A, ZHANG_ID, ZHANG_PASSWORD)

    zhang = await person(bureau, cast.zhang)
    assert zhang["default_phone"] == NEW
    assert phones_of(zhang)[ZHANG_REAL] is False
    assert answer["data"]["phone_masked"] == "131****0009"


async def test_shanghai_refuses_the_phone_with_its_real_name_message(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await ask_to_add(bureau, NEW, SHANGHAI)

    assert answer["code"] == 2070
    assert answer["message"].startswith("姓名证件手机号不匹配。")
    assert "021-962600" in answer["message"]
    assert (
        "目前系统暂不支持主副卡和集团业务中的号码使用人进行验证。" in answer["message"]
    )
    assert await outbox(bureau) == []


async def test_the_phone_shanghai_refused_is_added_through_shenzhen(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    refused = await ask_to_add(bureau, NEW, SHANGHAI)

    _, face_check_id = await up_to_face_check(bureau, NEW, SHENZHEN)
    await approve(bureau, face_check_id)

    assert refused["code"] == 2070
    assert NEW in phones_of(await person(bureau, cast.zhang))


async def test_the_portals_code_counts_against_the_phones_day(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await start(bureau, TAX_A, S1)
    for _ in range(19):
        await send_code(bureau, flow_id)

    first = await ask_to_add(bureau, S1, SHENZHEN)
    second = await ask_to_add(bureau, S1, SHENZHEN)

    assert first["code"] == 1000
    assert second["code"] == 2040
    stats = await admin(bureau, "GET", "/admin/stats")
    assert stats["phones"][S1] == {
        "banshui": 19,
        "manual": 0,
        "portal": 1,
        "total": 20,
        "left": 0,
    }
    assert (await admin(bureau, "GET", "/admin/violations"))["total"] == 0


async def test_the_portals_sms_is_worded_as_a_phone_binding(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await ask_to_add(bureau, NEW, SHENZHEN)

    [sms] = await outbox(bureau, NEW)

    assert sms["sender"] == "12366"
    assert sms["cause"] == "portal"
    assert "添加手机号码" in sms["text"]
    assert len(code_in(sms["text"])) == 6


async def test_a_wrong_portal_code_is_refused_and_five_lock_the_request(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    request_id = (await ask_to_add(bureau, NEW, SHENZHEN))["data"]["request_id"]

    answers = [await type_code(bureau, request_id, "000000x") for _ in range(5)]

    assert [answer["code"] for answer in answers] == [2041, 2041, 2041, 2041, 2023]
    assert (await request_status(bureau, request_id))["status"] == "code_sent"


async def test_a_portal_code_is_typed_once(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    request_id, _ = await up_to_face_check(bureau, NEW, SHENZHEN)
    [sms] = await outbox(bureau, NEW)

    again = await type_code(bureau, request_id, code_in(sms["text"]))

    assert again["code"] == 2042


async def test_the_portal_refuses_a_wrong_password_or_an_unknown_person(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    wrong = await ask_to_add(bureau, NEW, SHENZHEN, password="not-his")
    unknown = await ask_to_add(bureau, NEW, SHENZHEN, id_number="110101200001011234")

    assert wrong["code"] == 2035
    assert unknown["code"] == 2059
    assert await outbox(bureau) == []


async def test_an_unknown_portal_request_is_refused_with_2101(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    typed = await type_code(bureau, "no-such-request", "123456")
    shown = (await bureau.get("/api/portal/phones/no-such-request")).json()

    assert typed["code"] == 2101
    assert shown["code"] == 2101


async def test_a_bad_phone_or_region_is_a_client_error(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"id_number": ZHANG_ID, "password": ZHANG_PASSWORD, "default": False}
    bad_phone = await bureau.post(
        "/api/portal/phones", json={**body, "phone": "12345", "region": SHENZHEN}
    )
    bad_region = await bureau.post(
        "/api/portal/phones", json={**body, "phone": NEW, "region": "99"}
    )

    assert bad_phone.status_code == 422
    assert bad_region.status_code == 422


async def test_the_qr_page_shows_the_face_check_and_how_to_pass_it(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    _, face_check_id = await up_to_face_check(bureau, NEW, SHENZHEN)

    page = (await bureau.get(f"/face-checks/{face_check_id}")).json()
    listed = (await admin(bureau, "GET", "/admin/face-checks"))["face_checks"]

    assert page["data"]["status"] == "pending"
    assert page["data"]["purpose"] == "add_phone"
    assert [(c["face_check_id"], c["status"]) for c in listed] == [
        (face_check_id, "pending")
    ]


async def test_approving_an_unknown_face_check_is_a_404(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    response = await bureau.post("/admin/face-checks/nothing/approve")

    assert response.status_code == 404
