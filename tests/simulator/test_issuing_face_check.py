"""R14: issuing may need the issuer's face check before the session is given."""

from typing import Any

import httpx

from .cast import LI_PASSWORD, S3, TAX_D, Cast, admin, relation
from .steps import call, choose_identity, move_clock, session, verified_flow
from .tpass import tpass

AFTER_FACE_CHECK = "/api/login/face-check/session"


async def _face_check_on_issue(bureau: httpx.AsyncClient, person_id: str) -> None:
    body = {
        "person_id": person_id,
        "tax_id": TAX_D,
        "identity_code": "09",
        "face_check_on_issue": True,
    }
    answer = await admin(bureau, "POST", "/admin/relations", body)
    assert answer["face_check_on_issue"] is True


async def _identity_for(
    bureau: httpx.AsyncClient, flow_id: str, business: str
) -> dict[str, Any]:
    body = {
        "flow_id": flow_id,
        "tax_id": TAX_D,
        "identity_code": "09",
        "business": business,
    }
    return await call(bureau, "/api/login/identity", body)


async def _status(bureau: httpx.AsyncClient, face_check_id: str) -> str:
    body = {"face_check_id": face_check_id}
    answer = await call(bureau, "/api/login/face-check", body)
    return str(answer["data"]["status"])


async def _session_after(
    bureau: httpx.AsyncClient, face_check_id: str
) -> httpx.Response:
    body = {"face_check_id": face_check_id}
    return await tpass(bureau).post(AFTER_FACE_CHECK, body)


async def _li_verified(bureau: httpx.AsyncClient) -> str:
    return await verified_flow(bureau, TAX_D, S3, LI_PASSWORD)


async def test_issuing_with_the_switch_on_asks_for_the_face_check_first(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _face_check_on_issue(bureau, cast.li)

    answer = await _identity_for(bureau, await _li_verified(bureau), "issue")

    data = answer["data"]
    assert set(data) == {"next", "face_check_id", "qr_url"}
    assert data["next"] == "face_check"
    assert data["qr_url"].endswith(f"/face-checks/{data['face_check_id']}")
    assert await _status(bureau, data["face_check_id"]) == "pending"
    assert (await admin(bureau, "GET", "/admin/sessions"))["sessions"] == []


async def test_the_session_waits_for_the_issuers_face_check(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _face_check_on_issue(bureau, cast.li)
    answer = await _identity_for(bureau, await _li_verified(bureau), "issue")
    face_check_id = answer["data"]["face_check_id"]

    early = (await _session_after(bureau, face_check_id)).json()

    assert early["code"] == 2080
    assert "人脸识别" in early["message"]


async def test_once_approved_the_face_check_gives_the_session_and_its_cookie(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _face_check_on_issue(bureau, cast.li)
    answer = await _identity_for(bureau, await _li_verified(bureau), "issue")
    face_check_id = answer["data"]["face_check_id"]

    approved = await admin(
        bureau, "POST", f"/admin/face-checks/{face_check_id}/approve"
    )
    status = await _status(bureau, face_check_id)
    response = await _session_after(bureau, face_check_id)
    again = (await _session_after(bureau, face_check_id)).json()

    data = tpass(bureau).opened(AFTER_FACE_CHECK, response.json())
    assert (approved["purpose"], approved["person_id"]) == ("issue", cast.li)
    assert status == "approved"
    assert data["tax_id"] == TAX_D
    assert data["identity_code"] == "09"
    assert response.cookies["SIMSESSION"] == data["session_token"]
    assert (await session(bureau, data["session_token"]))["code"] == 1000
    assert again["code"] == 2101


async def test_receiving_or_naming_no_business_needs_no_face_check(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _face_check_on_issue(bureau, cast.li)

    receiving = await _identity_for(bureau, await _li_verified(bureau), "receive")
    unnamed = await choose_identity(bureau, await _li_verified(bureau), TAX_D, "09")

    assert receiving["data"]["session_token"]
    assert unnamed["data"]["session_token"]


async def test_issuing_without_the_switch_gives_the_session_at_once(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    answer = await _identity_for(bureau, await _li_verified(bureau), "issue")

    assert answer["code"] == 1000
    assert answer["data"]["session_token"]


async def test_the_switch_is_off_unless_set(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"person_id": cast.li, "tax_id": TAX_D, "identity_code": "09"}

    answer = await admin(bureau, "POST", "/admin/relations", body)

    assert answer["face_check_on_issue"] is False


async def test_a_face_check_left_past_the_flows_ten_minutes_gives_no_session(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await _face_check_on_issue(bureau, cast.li)
    answer = await _identity_for(bureau, await _li_verified(bureau), "issue")
    face_check_id = answer["data"]["face_check_id"]
    await admin(bureau, "POST", f"/admin/face-checks/{face_check_id}/approve")

    await move_clock(bureau, 600)

    late = (await _session_after(bureau, face_check_id)).json()
    assert late["code"] == 2101


async def test_an_unknown_face_check_is_refused_with_2101(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    status = await call(bureau, "/api/login/face-check", {"face_check_id": "nothing"})
    session_answer = (await _session_after(bureau, "nothing")).json()

    assert status["code"] == 2101
    assert session_answer["code"] == 2101


async def test_an_unconfirmed_issuer_still_cannot_log_in(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    flow_id = await _li_verified(bureau)
    await relation(bureau, cast.li, TAX_D, "09", confirmed=False)

    answer = await _identity_for(bureau, flow_id, "issue")

    assert answer["code"] == 2034
