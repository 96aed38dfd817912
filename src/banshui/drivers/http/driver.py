"""Login steps over HTTP; every bureau answer is read into the driver protocol.

After the key exchange every step goes sealed (``envelope.py``); the region's
profile gives the client id and the steps the driver may meet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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
from banshui.drivers.http.envelope import Channel, EnvelopeError, SessionKey
from banshui.drivers.profile import SIMULATOR, Profiles, RegionProfile, load_profiles
from banshui.drivers.refusals import failure_of

logger = logging.getLogger(__name__)

OK = 1000
SESSION_COOKIE = "SIMSESSION"
CHANNEL_PATH = "/api/login/channel"

# The channel was forgotten (a restart, a reset): open another and ask again.
UNKNOWN_CHANNEL = 2113

# The next steps the site may name, in the profiles' words.
NEXT_STEPS = frozenset({"sms", "slider", "identity", "face_check"})


class HttpDriver:
    """The login site's JSON protocol, sealed.

    ``solve_simulated_slider``: a region whose profile says its slider is the
    simulator's (which publishes its answer) may have it passed by the driver;
    any other slider goes to a person.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        solve_simulated_slider: bool = False,
        profiles: Profiles | None = None,
        millis: Callable[[], int] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        # The envelope's clock (milliseconds since the epoch); real time unless given.
        self._millis = millis
        self._client = httpx.AsyncClient(
            base_url=self._base_url, timeout=timeout, transport=transport
        )
        self._solve_slider = solve_simulated_slider
        self._profiles = profiles or load_profiles(simulator_url=self._base_url)
        self._channel: Channel | None = None
        self._opening = asyncio.Lock()

    async def start(
        self, region: str, tax_id: str, account: str, password: str
    ) -> Flow:
        profile = self._profile(region)
        body = {
            "client_id": profile.client_id,
            "tax_id": tax_id,
            "account": account,
            "password": password,
        }
        data = await self._call("/api/login/password", body, profile=profile)
        flow_id = str(data["flow_id"])
        following = _expected(profile, data.get("next"), "password")
        if following == "identity":
            # R12: a region that opens the session after the password alone.
            return Flow(region, flow_id, Step.IDENTITY, _identities(data))
        if following == "slider":
            challenge = str(data["slider"]["challenge_id"])
            if self._solve_slider and profile.simulated_slider:
                await self._slide(profile, flow_id, challenge)
                return Flow(region, flow_id, Step.CODE)
            return Flow(region, flow_id, Step.SLIDER, slider_id=challenge)
        return Flow(region, flow_id, Step.CODE)

    async def send_code(self, flow: Flow) -> None:
        await self._call("/api/login/send-code", {"flow_id": flow.flow_id})

    async def submit_code(self, flow: Flow, code: str) -> Flow:
        data = await self._call(
            "/api/login/submit-code", {"flow_id": flow.flow_id, "code": code}
        )
        return Flow(flow.region, flow.flow_id, Step.IDENTITY, _identities(data))

    async def choose_identity(
        self, flow: Flow, tax_id: str, identity_code: str, business: str
    ) -> SessionHandle | FaceCheck:
        body = {
            "flow_id": flow.flow_id,
            "tax_id": tax_id,
            "identity_code": identity_code,
            "business": business,
        }
        response, data = await self._exchange("/api/login/identity", body)
        if data.get("next") == "face_check":
            profile = self._profile(flow.region)
            _expected(profile, "face_check", "identity")
            check_id, qr_url = str(data["face_check_id"]), str(data["qr_url"])
            return FaceCheck(check_id, qr_url, region=flow.region)
        return self._handle(response, data, flow.region)

    async def face_check_passed(self, check: FaceCheck) -> bool:
        body = {"face_check_id": check.face_check_id}
        data = await self._call("/api/login/face-check", body)
        return data.get("status") == "approved"

    async def session_after_face_check(self, check: FaceCheck) -> SessionHandle:
        body = {"face_check_id": check.face_check_id}
        response, data = await self._exchange("/api/login/face-check/session", body)
        return self._handle(response, data, check.region)

    async def probe(self, session: SessionHandle) -> Probe:
        try:
            data = await self._call("/api/session", {}, cookies=session.cookies)
        except BureauError as error:
            if error.failure is Failure.SESSION_ENDED:
                return Probe(alive=False)
            raise
        return Probe(alive=bool(data.get("alive")), tax_id=data.get("tax_id"))

    async def switch(self, session: SessionHandle, tax_id: str) -> SessionHandle:
        data = await self._call(
            "/api/session/switch", {"tax_id": tax_id}, cookies=session.cookies
        )
        return SessionHandle(
            base_url=session.base_url,
            cookies=session.cookies,
            tax_id=str(data.get("tax_id", tax_id)),
            identity_code=str(data.get("identity_code", session.identity_code)),
            enterprise_name=str(data.get("enterprise_name", "")),
            region=session.region,
        )

    async def close(self) -> None:
        await self._client.aclose()

    def _profile(self, region: str) -> RegionProfile:
        profile = self._profiles.get(region)
        if profile is None:
            raise BureauError(
                Failure.PROFILE, f"no driver profile describes region {region}"
            )
        if profile.base_url not in (SIMULATOR, self._base_url):
            logger.warning(
                "%s names %s, but this driver speaks to %s",
                profile.label,
                profile.base_url,
                self._base_url,
            )
        return profile

    async def _slide(
        self, profile: RegionProfile, flow_id: str, challenge: str
    ) -> None:
        """Drag the simulated slider by the offset its own address publishes."""
        published = await self._send("GET", f"/api/login/slider/{challenge}")
        answer = _body(published)
        if answer.get("code") != OK:
            raise _refusal(answer, published.url.path, profile)
        body = {"flow_id": flow_id, "offset": int(answer["data"]["offset"])}
        await self._call("/api/login/slider", body, profile=profile)

    def _handle(
        self, response: httpx.Response, data: dict[str, Any], region: str
    ) -> SessionHandle:
        token = response.cookies.get(SESSION_COOKIE) or str(data["session_token"])
        return SessionHandle(
            base_url=self._base_url,
            cookies={SESSION_COOKIE: token},
            tax_id=str(data["tax_id"]),
            identity_code=str(data["identity_code"]),
            enterprise_name=str(data.get("enterprise_name", "")),
            region=region,
        )

    # The envelope.

    async def _call(
        self,
        path: str,
        body: dict[str, Any],
        cookies: dict[str, str] | None = None,
        profile: RegionProfile | None = None,
    ) -> dict[str, Any]:
        return (await self._exchange(path, body, cookies, profile))[1]

    async def _exchange(
        self,
        path: str,
        body: dict[str, Any],
        cookies: dict[str, str] | None = None,
        profile: RegionProfile | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """Send one step sealed; the response and the data it opens to."""
        channel = await self._open_channel()
        response = await self._post_sealed(channel, path, body, cookies)
        answer = _body(response)
        if answer.get("code") == UNKNOWN_CHANNEL:
            channel = await self._open_channel(forgotten=channel)
            response = await self._post_sealed(channel, path, body, cookies)
            answer = _body(response)

        if answer.get("code") != OK:
            raise _refusal(answer, path, profile)
        try:
            return response, channel.open(path, answer)
        except EnvelopeError as error:
            raise BureauError(Failure.ENVELOPE, str(error)) from None

    async def _post_sealed(
        self,
        channel: Channel,
        path: str,
        body: dict[str, Any],
        cookies: dict[str, str] | None,
    ) -> httpx.Response:
        headers = {"Cookie": _cookie_header(cookies)} if cookies else None
        return await self._send(
            "POST", path, json=channel.seal(path, body), headers=headers
        )

    async def _open_channel(self, forgotten: Channel | None = None) -> Channel:
        """The channel, opened once; again when the site forgot ``forgotten``."""
        async with self._opening:
            if self._channel is not None and self._channel is not forgotten:
                return self._channel

            published = _body(await self._send("GET", "/api/login/public-key"))
            if published.get("code") != OK:
                raise _refusal(published, "/api/login/public-key", None)
            key = SessionKey.fresh()
            try:
                sealed_key = key.for_site(str(published["data"]["public_key"]))
            except (EnvelopeError, KeyError, TypeError) as error:
                raise BureauError(Failure.ENVELOPE, str(error)) from None

            answer = _body(
                await self._send("POST", CHANNEL_PATH, json={"key": sealed_key})
            )
            if answer.get("code") != OK:
                raise _refusal(answer, CHANNEL_PATH, None)
            channel_id = str(answer.get("channel", ""))
            if self._millis is None:
                channel = Channel(channel_id, key)
            else:
                channel = Channel(channel_id, key, self._millis)
            try:
                channel.open(CHANNEL_PATH, answer)
            except EnvelopeError as error:
                raise BureauError(Failure.ENVELOPE, str(error)) from None
            self._channel = channel
            return channel

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise BureauError(Failure.UNAVAILABLE, type(error).__name__) from None
        if response.status_code >= 500:
            raise BureauError(Failure.UNAVAILABLE, f"HTTP {response.status_code}")
        return response


def _expected(profile: RegionProfile, step: object, after: str) -> str:
    """The step the site asks for next, if the region's profile lists it."""
    named = str(step)
    if named not in NEXT_STEPS:
        logger.warning("unexpected next step %r after %s", step, after)
        raise BureauError(Failure.UNAVAILABLE, f"unknown next step {step!r}")
    if not profile.has(named):
        raise BureauError(
            Failure.PROFILE,
            f"{profile.label}: after the {after} step the bureau asked for the "
            f"step {named!r}, which the profile {profile.file} does not list",
        )
    return named


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise BureauError(Failure.UNAVAILABLE, "the answer is not JSON") from None
    if not isinstance(body, dict):
        raise BureauError(Failure.UNAVAILABLE, "the answer is not a JSON object")
    return body


def read_refusal(
    response: httpx.Response, profile: RegionProfile | None = None
) -> BureauError:
    """The refusal a plain answer carries, in the engine's terms."""
    return _refusal(_body(response), response.url.path, profile)


def _refusal(
    body: dict[str, Any], path: str, profile: RegionProfile | None
) -> BureauError:
    code = body.get("code")
    message = str(body.get("message", ""))
    failure = failure_of(code, message)
    if failure is None:
        logger.warning("unexpected bureau answer code %r on %s", code, path)
        failure = Failure.UNAVAILABLE
    if failure is Failure.PROFILE and profile is not None:
        message = (
            f"{profile.label}: the bureau refused the client id of profile "
            f"{profile.file} at the password step: {message}"
        )
    return BureauError(failure, message, code if isinstance(code, int) else None)


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
