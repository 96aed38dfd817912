"""Login steps over HTTP; every bureau answer is read into the driver protocol."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from banshui.drivers.base import (
    BureauError,
    FaceCheck,
    Failure,
    Flow,
    Identity,
    Probe,
    SessionHandle,
    Step,
)

logger = logging.getLogger(__name__)

OK = 1000
SESSION_COOKIE = "SIMSESSION"

# The site's business error codes (DESIGN §6) in the engine's terms.
FAILURES = {
    2018: Failure.BAD_TAX_ID,
    2023: Failure.LOCKED,
    2034: Failure.NO_RELATION,
    2035: Failure.BAD_CREDENTIALS,
    2040: Failure.QUOTA_REFUSED,
    2041: Failure.WRONG_CODE,
    2042: Failure.CODE_EXPIRED,
    2050: Failure.SLIDER_FAILED,
    2059: Failure.NOT_REGISTERED,
    2060: Failure.PERSON_NOT_FOUND,
    2070: Failure.REAL_NAME_MISMATCH,
    2080: Failure.FACE_CHECK_PENDING,
    2100: Failure.SESSION_ENDED,
    2101: Failure.UNKNOWN_FLOW,
}

# One code, two meanings the site tells apart only in its words.
UNCONFIRMED = "尚未确认"  # 2034: the identity exists but is not confirmed (R7)
SLIDER = "滑块"  # 2101: the code waits until the slider is passed


class HttpDriver:
    """The login site's JSON protocol.

    ``solve_simulated_slider``: the simulator publishes its slider's answer, so
    the driver may pass it; a real site's slider goes to a person instead.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        solve_simulated_slider: bool = False,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self._base_url, timeout=timeout)
        self._solve_slider = solve_simulated_slider

    async def start(
        self, region: str, tax_id: str, account: str, password: str
    ) -> Flow:
        data = await self._call(
            "POST",
            "/api/login/password",
            json={"tax_id": tax_id, "account": account, "password": password},
        )
        flow_id = str(data["flow_id"])
        following = data.get("next")
        if following == "identity":
            # R12: a region that opens the session after the password alone.
            return Flow(region, flow_id, Step.IDENTITY, _identities(data))
        if following == "slider":
            challenge = str(data["slider"]["challenge_id"])
            if self._solve_slider:
                await self._slide(flow_id, challenge)
                return Flow(region, flow_id, Step.CODE)
            return Flow(region, flow_id, Step.SLIDER, slider_id=challenge)
        return Flow(region, flow_id, Step.CODE)

    async def send_code(self, flow: Flow) -> None:
        await self._call("POST", "/api/login/send-code", json={"flow_id": flow.flow_id})

    async def submit_code(self, flow: Flow, code: str) -> Flow:
        data = await self._call(
            "POST",
            "/api/login/submit-code",
            json={"flow_id": flow.flow_id, "code": code},
        )
        return Flow(flow.region, flow.flow_id, Step.IDENTITY, _identities(data))

    async def choose_identity(
        self, flow: Flow, tax_id: str, identity_code: str, business: str
    ) -> SessionHandle | FaceCheck:
        response = await self._send(
            "POST",
            "/api/login/identity",
            json={
                "flow_id": flow.flow_id,
                "tax_id": tax_id,
                "identity_code": identity_code,
                "business": business,
            },
        )
        data = _data(response)
        if data.get("next") == "face_check":
            return FaceCheck(str(data["face_check_id"]), str(data["qr_url"]))
        return self._handle(response, data)

    async def face_check_passed(self, check: FaceCheck) -> bool:
        path = f"/api/login/face-check/{check.face_check_id}"
        data = await self._call("GET", path)
        return data.get("status") == "approved"

    async def session_after_face_check(self, check: FaceCheck) -> SessionHandle:
        path = f"/api/login/face-check/{check.face_check_id}/session"
        response = await self._send("POST", path)
        return self._handle(response, _data(response))

    async def probe(self, session: SessionHandle) -> Probe:
        try:
            data = await self._call("GET", "/api/session", cookies=session.cookies)
        except BureauError as error:
            if error.failure is Failure.SESSION_ENDED:
                return Probe(alive=False)
            raise
        return Probe(alive=bool(data.get("alive")), tax_id=data.get("tax_id"))

    async def switch(self, session: SessionHandle, tax_id: str) -> SessionHandle:
        data = await self._call(
            "POST",
            "/api/session/switch",
            json={"tax_id": tax_id},
            cookies=session.cookies,
        )
        return SessionHandle(
            base_url=session.base_url,
            cookies=session.cookies,
            tax_id=str(data.get("tax_id", tax_id)),
            identity_code=str(data.get("identity_code", session.identity_code)),
            enterprise_name=str(data.get("enterprise_name", "")),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def _slide(self, flow_id: str, challenge_id: str) -> None:
        """Drag the simulated slider by the offset its own address publishes."""
        answer = await self._call("GET", f"/api/login/slider/{challenge_id}")
        body = {"flow_id": flow_id, "offset": int(answer["offset"])}
        await self._call("POST", "/api/login/slider", json=body)

    def _handle(self, response: httpx.Response, data: dict[str, Any]) -> SessionHandle:
        token = response.cookies.get(SESSION_COOKIE) or str(data["session_token"])
        return SessionHandle(
            base_url=self._base_url,
            cookies={SESSION_COOKIE: token},
            tax_id=str(data["tax_id"]),
            identity_code=str(data["identity_code"]),
            enterprise_name=str(data.get("enterprise_name", "")),
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return _data(await self._send(method, path, **kwargs))

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        cookies = kwargs.pop("cookies", None)
        headers = {"Cookie": _cookie_header(cookies)} if cookies else None
        try:
            response = await self._client.request(
                method, path, headers=headers, **kwargs
            )
        except httpx.HTTPError as error:
            raise BureauError(Failure.UNAVAILABLE, type(error).__name__) from None
        if response.status_code >= 500:
            raise BureauError(Failure.UNAVAILABLE, f"HTTP {response.status_code}")
        return response


def _data(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise BureauError(Failure.UNAVAILABLE, "the answer is not JSON") from None
    if not isinstance(body, dict):
        raise BureauError(Failure.UNAVAILABLE, "the answer is not a JSON object")

    code = body.get("code")
    if code == OK:
        data = body.get("data") or {}
        return data if isinstance(data, dict) else {"items": data}

    message = str(body.get("message", ""))
    failure = _failure(code, message)
    if failure is None:
        logger.warning(
            "unexpected bureau answer code %r on %s", code, response.url.path
        )
        failure = Failure.UNAVAILABLE
    raise BureauError(failure, message, code if isinstance(code, int) else None)


def _failure(code: object, message: str) -> Failure | None:
    if code == 2034 and UNCONFIRMED in message:
        return Failure.UNCONFIRMED_IDENTITY
    if code == 2101 and SLIDER in message:
        return Failure.SLIDER_REQUIRED
    return FAILURES.get(code) if isinstance(code, int) else None


def _identities(data: dict[str, Any]) -> tuple[Identity, ...]:
    return tuple(
        Identity(
            tax_id=str(item["tax_id"]),
            enterprise_name=str(item.get("enterprise_name", "")),
            identity_code=str(item["identity_code"]),
            confirmed=bool(item.get("confirmed", True)),
        )
        for item in data.get("identities", [])
    )


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
