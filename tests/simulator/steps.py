"""The login steps as a test walks them over HTTP, each in its envelope."""

import re
from typing import Any

import httpx

from banshui.simulator.regions import REGIONS, client_id

from .cast import S1, TAX_A, ZHANG_PASSWORD, admin
from .tpass import tpass

_CODE = re.compile(r"验证码[^0-9]{0,3}(\d{6})")


async def call(
    bureau: httpx.AsyncClient,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A login API step, enveloped; business answers are always HTTP 200."""
    return await tpass(bureau).call(path, body, headers)


def client_for(tax_id: str) -> str:
    """The client id of the tax id's region (R13), as its site's login page has it."""
    division = tax_id[2:6]
    return client_id(division if division in REGIONS else division[:2])


async def password_step(
    bureau: httpx.AsyncClient,
    tax_id: str = TAX_A,
    account: str = S1,
    password: str = ZHANG_PASSWORD,
) -> dict[str, Any]:
    body = {
        "client_id": client_for(tax_id),
        "tax_id": tax_id,
        "account": account,
        "password": password,
    }
    return await call(bureau, "/api/login/password", body)


async def start(
    bureau: httpx.AsyncClient,
    tax_id: str = TAX_A,
    account: str = S1,
    password: str = ZHANG_PASSWORD,
) -> str:
    """Pass the password step; the flow's id."""
    answer = await password_step(bureau, tax_id, account, password)
    assert answer["code"] == 1000, answer
    return str(answer["data"]["flow_id"])


async def send_code(bureau: httpx.AsyncClient, flow_id: str) -> dict[str, Any]:
    return await call(bureau, "/api/login/send-code", {"flow_id": flow_id})


async def submit_code(
    bureau: httpx.AsyncClient, flow_id: str, code: str
) -> dict[str, Any]:
    body = {"flow_id": flow_id, "code": code}
    return await call(bureau, "/api/login/submit-code", body)


async def choose_identity(
    bureau: httpx.AsyncClient, flow_id: str, tax_id: str, identity_code: str = "03"
) -> dict[str, Any]:
    body = {"flow_id": flow_id, "tax_id": tax_id, "identity_code": identity_code}
    return await call(bureau, "/api/login/identity", body)


async def outbox(bureau: httpx.AsyncClient, phone: str | None = None) -> list[Any]:
    path = "/admin/outbox" + (f"?phone={phone}" if phone else "")
    answer = await admin(bureau, "GET", path)
    sms = answer["sms"]
    assert isinstance(sms, list)
    return sms


def code_in(text: str) -> str:
    match = _CODE.search(text)
    assert match is not None, text
    return match.group(1)


async def latest_code(bureau: httpx.AsyncClient, phone: str) -> str:
    sent = await outbox(bureau, phone)
    return code_in(sent[-1]["text"])


async def verified_flow(
    bureau: httpx.AsyncClient,
    tax_id: str = TAX_A,
    account: str = S1,
    password: str = ZHANG_PASSWORD,
    phone: str | None = None,
) -> str:
    """A flow whose code was sent and accepted; the code is read off the outbox."""
    flow_id = await start(bureau, tax_id, account, password)
    assert (await send_code(bureau, flow_id))["code"] == 1000

    code = await latest_code(bureau, phone or account)
    assert (await submit_code(bureau, flow_id, code))["code"] == 1000
    return flow_id


async def log_in(
    bureau: httpx.AsyncClient,
    tax_id: str = TAX_A,
    account: str = S1,
    password: str = ZHANG_PASSWORD,
    identity_code: str = "03",
) -> str:
    """Walk all four steps; the session token."""
    flow_id = await verified_flow(bureau, tax_id, account, password)
    answer = await choose_identity(bureau, flow_id, tax_id, identity_code)
    assert answer["code"] == 1000, answer
    return str(answer["data"]["session_token"])


async def session(bureau: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return await call(bureau, "/api/session", {}, {"X-Sim-Session": token})


async def violations(bureau: httpx.AsyncClient) -> dict[str, object]:
    return await admin(bureau, "GET", "/admin/violations")


async def move_clock(bureau: httpx.AsyncClient, seconds: float) -> None:
    await admin(bureau, "PUT", "/admin/clock", {"advance_seconds": seconds})
