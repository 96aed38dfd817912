"""The login site's JSON API: the steps of a login and what a session can do.

Routes are relative, so the app serves them at `/` alone or under `/sim` mounted.
After the public key and the key exchange, every request and success answer is
an envelope (`channels.py`); refusals stay plain `{"code", "message"}`. The steps
of a login meet the faults slow_ms and error_5xx when they are switched on.

Outside the envelope stay what is not the login protocol: the slider's published
answer (a stand-in for a person's eyes) and the business pages of a session.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from banshui.simulator import channels, invoices, login, sessions, slider
from banshui.simulator.answers import SUCCESS, BureauDep, Reply, ok
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import bureau_day
from banshui.simulator.errors import Unavailable
from banshui.simulator.face_api import qr_url
from banshui.simulator.faults import Outage
from banshui.simulator.identities import identity_name
from banshui.simulator.inputs import PathToken
from banshui.simulator.phones import mask
from banshui.simulator.regions import region_name
from banshui.simulator.state import Channel, FaceCheck, Flow, Relation, Session

SESSION_COOKIE = "SIMSESSION"

router = APIRouter(prefix="/api")

Body = TypeVar("Body", bound=BaseModel)


class SessionKey(BaseModel):
    key: str = Field(max_length=1024)


class PasswordStep(BaseModel):
    client_id: str = Field(max_length=64)
    tax_id: str = Field(max_length=64)
    account: str = Field(max_length=64)
    password: str = Field(max_length=128)


class FlowStep(BaseModel):
    flow_id: str = Field(max_length=64)


class SliderStep(FlowStep):
    offset: int = Field(ge=-10_000, le=10_000)


class CodeStep(FlowStep):
    code: str = Field(max_length=16)


class IdentityStep(FlowStep):
    tax_id: str = Field(max_length=64)
    identity_code: str = Field(max_length=4)
    business: login.Business | None = None


class FaceCheckStep(BaseModel):
    face_check_id: str = Field(max_length=64)


class SwitchRequest(BaseModel):
    tax_id: str = Field(max_length=64)
    identity_code: str | None = Field(default=None, max_length=4)


@dataclass(frozen=True)
class Opened:
    """A request taken out of its envelope, and the way its answer goes back."""

    channel: Channel
    path: str
    data: dict[str, Any]

    def read(self, model: type[Body]) -> Body:
        try:
            return model.model_validate(self.data)
        except ValidationError as error:
            raise RequestValidationError(
                error.errors(include_url=False, include_context=False)
            ) from None

    def seal(self, reply: Reply) -> Reply:
        if reply.get("code") != SUCCESS:
            return reply

        return channels.answer(self.channel, self.path, reply["data"])


async def opened(request: Request, bureau: BureauDep) -> Opened:
    try:
        sealed = channels.Envelope.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(
            error.errors(include_url=False, include_context=False)
        ) from None

    path = step_path(request)
    channel, data = channels.read(bureau, sealed, path)
    return Opened(channel, path, data)


OpenedDep = Annotated[Opened, Depends(opened)]


def step_path(request: Request) -> str:
    """The path below the site's root, as the client signs it, mounted or not."""
    path = str(request.scope["path"])
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return path[len(root) :] if root and path.startswith(root) else path


def current_session(
    bureau: BureauDep,
    x_sim_session: Annotated[str | None, Header()] = None,
    cookie: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Session:
    return sessions.touch(bureau, x_sim_session or cookie)


SessionDep = Annotated[Session, Depends(current_session)]


@dataclass(frozen=True)
class Taken:
    """A login step's answer, and what a 503 answered after it should name."""

    answer: Reply
    flow_id: str | None = None
    sms_id: int | None = None


async def faulted(
    bureau: Bureau, step: str, act: Callable[[], Taken], flow_id: str | None = None
) -> Reply:
    """Take a login step as the faults let it answer: late, or 503 around its effect."""
    faults = bureau.state.faults
    delay_ms = faults.slowness_ms(step, bureau.clock.now(), flow_id)
    late = faults.fired[-1] if delay_ms else None
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)

    outage = faults.outage()
    if outage == "before":
        _record_outage(bureau, step, "before", Taken({}, flow_id))
        raise Unavailable

    taken = act()
    if late is not None and late.flow_id is None and taken.flow_id is not None:
        # The password step starts its flow: its lateness is that flow's too.
        faults.name_flow_of(late, taken.flow_id)
    if outage == "after":
        effect = replace(taken, flow_id=taken.flow_id or flow_id)
        _record_outage(bureau, step, "after", effect)
        raise Unavailable

    return taken.answer


def _record_outage(bureau: Bureau, step: str, outage: Outage, taken: Taken) -> None:
    flow = bureau.state.flows.get(taken.flow_id) if taken.flow_id else None
    phone = flow.phone if flow is not None else None
    bureau.state.faults.record_outage(
        step, outage, bureau.clock.now(), taken.flow_id, phone, taken.sms_id
    )


@router.get("/login/public-key")
async def public_key(bureau: BureauDep) -> Reply:
    """The site's SM2 public key, under which a client sends its session key."""
    return ok({"algorithm": "SM2", "public_key": bureau.keys.public.hex()})


@router.post("/login/channel")
async def open_channel(body: SessionKey, request: Request, bureau: BureauDep) -> Reply:
    """The key exchange: the answer is the first one sealed with the new key."""
    channel = channels.open_channel(bureau, body.key)
    return channels.answer(channel, step_path(request), {"opened": True})


@router.post("/login/password")
async def password_step(sealed: OpenedDep, bureau: BureauDep) -> Reply:
    body = sealed.read(PasswordStep)

    def act() -> Taken:
        login.check_client(bureau, body.tax_id, body.client_id)
        flow = login.start(bureau, body.tax_id, body.account, body.password, "banshui")
        return Taken(ok(_after_password(bureau, flow)), flow.flow_id)

    return sealed.seal(await faulted(bureau, "password", act))


def _after_password(bureau: Bureau, flow: Flow) -> Reply:
    """What the region asks for next (R12): identities, a slider or the SMS step."""
    if flow.verified:
        relations = login.identities(bureau, flow)
        listed = [_identity(bureau, relation) for relation in relations]
        return {"next": "identity", "flow_id": flow.flow_id, "identities": listed}

    if flow.slider is not None:
        challenge = {
            "challenge_id": flow.slider.challenge_id,
            "width": flow.slider.width,
        }
        return {"next": "slider", "flow_id": flow.flow_id, "slider": challenge}

    return _sms_step(flow)


def _sms_step(flow: Flow) -> Reply:
    assert flow.phone is not None
    return {"next": "sms", "flow_id": flow.flow_id, "phone_masked": mask(flow.phone)}


@router.get("/login/slider/{challenge_id}")
async def slider_answer(challenge_id: PathToken, bureau: BureauDep) -> Reply:
    """The simulated slider's answer, published so that anyone may solve it."""
    challenge = slider.challenge(bureau, challenge_id)
    return ok(
        {
            "challenge_id": challenge.challenge_id,
            "width": challenge.width,
            "offset": challenge.offset,
        }
    )


@router.post("/login/slider")
async def slider_step(sealed: OpenedDep, bureau: BureauDep) -> Reply:
    body = sealed.read(SliderStep)

    def act() -> Taken:
        return Taken(ok(_sms_step(slider.solve(bureau, body.flow_id, body.offset))))

    return sealed.seal(await faulted(bureau, "slider", act, body.flow_id))


@router.post("/login/send-code")
async def send_code(sealed: OpenedDep, bureau: BureauDep) -> Reply:
    body = sealed.read(FlowStep)

    def act() -> Taken:
        sms = login.send_code(bureau, body.flow_id)
        bureau.send(sms)
        valid_seconds = bureau.config.code_valid_seconds
        return Taken(
            ok({"sent": True, "valid_seconds": valid_seconds}), sms_id=sms.sms_id
        )

    return sealed.seal(await faulted(bureau, "send-code", act, body.flow_id))


@router.post("/login/submit-code")
async def submit_code(sealed: OpenedDep, bureau: BureauDep) -> Reply:
    body = sealed.read(CodeStep)

    def act() -> Taken:
        relations = login.submit_code(bureau, body.flow_id, body.code)
        identities = [_identity(bureau, relation) for relation in relations]
        return Taken(ok({"next": "identity", "identities": identities}))

    return sealed.seal(await faulted(bureau, "submit-code", act, body.flow_id))


@router.post("/login/identity")
async def choose_identity(
    sealed: OpenedDep, bureau: BureauDep, request: Request, response: Response
) -> Reply:
    body = sealed.read(IdentityStep)

    def act() -> Taken:
        chosen = login.choose_identity(
            bureau, body.flow_id, body.tax_id, body.identity_code, body.business
        )
        if isinstance(chosen, FaceCheck):
            return Taken(ok(_face_check_step(request, chosen)))

        return Taken(ok(_session_opened(bureau, chosen, response)))

    return sealed.seal(await faulted(bureau, "identity", act, body.flow_id))


@router.post("/login/face-check")
async def face_check_status(sealed: OpenedDep, bureau: BureauDep) -> Reply:
    body = sealed.read(FaceCheckStep)
    check = login.issuing_face_check(bureau, body.face_check_id)
    status = "approved" if check.approved else "pending"
    return sealed.seal(ok({"face_check_id": check.face_check_id, "status": status}))


@router.post("/login/face-check/session")
async def session_after_face_check(
    sealed: OpenedDep, bureau: BureauDep, response: Response
) -> Reply:
    body = sealed.read(FaceCheckStep)

    def act() -> Taken:
        session = login.session_after_face_check(bureau, body.face_check_id)
        return Taken(ok(_session_opened(bureau, session, response)))

    check = bureau.state.face_checks.get(body.face_check_id)
    flow_id = check.subject if check is not None else None
    return sealed.seal(await faulted(bureau, "face-check session", act, flow_id))


# The session's own steps are enveloped too; the dependencies run in order, so
# a request that is not a good envelope never touches (or refreshes) a session.


@router.post("/session")
async def session_state(
    sealed: OpenedDep, session: SessionDep, bureau: BureauDep
) -> Reply:
    return sealed.seal(ok({"alive": True, **_session(bureau, session)}))


@router.post("/session/enterprises")
async def enterprises(
    sealed: OpenedDep, session: SessionDep, bureau: BureauDep
) -> Reply:
    relations = sessions.switchable(bureau, session)
    listed = [_switch_target(bureau, session, relation) for relation in relations]
    return sealed.seal(ok({"enterprises": listed}))


@router.post("/session/switch")
async def switch(sealed: OpenedDep, session: SessionDep, bureau: BureauDep) -> Reply:
    body = sealed.read(SwitchRequest)
    sessions.switch(bureau, session, body.tax_id, body.identity_code)
    return sealed.seal(ok({"alive": True, **_session(bureau, session)}))


@router.get("/invoices/incoming")
async def incoming_invoices(session: SessionDep, bureau: BureauDep) -> Reply:
    today = bureau_day(bureau.clock.now())
    listed = invoices.incoming(session.tax_id, today)
    return ok({"tax_id": session.tax_id, "invoices": listed})


def _session_opened(bureau: Bureau, session: Session, response: Response) -> Reply:
    response.set_cookie(SESSION_COOKIE, session.token, path="/", httponly=True)
    return {"session_token": session.token, **_session(bureau, session)}


def _face_check_step(request: Request, check: FaceCheck) -> Reply:
    return {
        "next": "face_check",
        "face_check_id": check.face_check_id,
        "qr_url": qr_url(request, check.face_check_id),
    }


def _identity(bureau: Bureau, relation: Relation) -> Reply:
    return {
        "tax_id": relation.tax_id,
        "enterprise_name": bureau.state.enterprises[relation.tax_id].name,
        "identity_code": relation.identity_code,
        "identity_name": identity_name(relation.identity_code),
        "confirmed": relation.confirmed,
    }


def _switch_target(bureau: Bureau, session: Session, relation: Relation) -> Reply:
    current = (session.tax_id, session.identity_code)
    is_current = (relation.tax_id, relation.identity_code) == current
    return {**_identity(bureau, relation), "current": is_current}


def _session(bureau: Bureau, session: Session) -> Reply:
    return {
        "tax_id": session.tax_id,
        "enterprise_name": bureau.state.enterprises[session.tax_id].name,
        "identity_code": session.identity_code,
        "identity_name": identity_name(session.identity_code),
        "region": session.region,
        "region_name": region_name(session.region),
    }
