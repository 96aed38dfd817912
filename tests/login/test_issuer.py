"""R8: the issuer (开票人) on an invoice is the person who owns the number, so an
issuing login is that person's session, and the listing names them."""

from __future__ import annotations

from banshui.demo.cast import LI_SI, S3, D

from .conftest import Sandbox, api_get, person_at_bureau, served


async def test_an_issuing_login_is_a_session_of_the_person_named_as_the_issuer(
    sandbox: Sandbox,
) -> None:
    login = await served(sandbox, D, "issue")
    handed = await sandbox.client.session(login["id"])

    listed = await api_get(sandbox, f"/api/v1/enterprises/{D.tax_id}/accounts")
    sessions = (await sandbox.stack.sim.get("/admin/sessions")).json()["sessions"]
    token = handed["cookies"]["SIMSESSION"]
    (at_bureau,) = [item for item in sessions if item["session_token"] == token]

    assert (login["status"], login["number"]) == ("succeeded", S3)
    assert at_bureau["person_id"] == await person_at_bureau(sandbox, LI_SI)
    assert (at_bureau["tax_id"], at_bureau["identity_code"]) == (D.tax_id, "09")
    issuers = [item["issuer"] for item in listed["accounts"] if item["number"] == S3]
    assert issuers == [LI_SI.name]
