"""The login site's JSON API: the steps of a login and what a session can do.

Routes are relative, so the app serves them at `/` alone or under `/sim` mounted.
"""

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Header, Response
from pydantic import BaseModel, Field

from banshui.simulator import invoices, login, sessions
from banshui.simulator.answers import BureauDep, Reply, ok
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import bureau_day
from banshui.simulator.identities import identity_name
from banshui.simulator.phones import mask
from banshui.simulator.regions import region_name
from banshui.simulator.state import Relation, Session

SESSION_COOKIE = "SIMSESSION"

router = APIRouter(prefix="/api")


class PasswordStep(BaseModel):
    tax_id: str = Field(max_length=64)
    account: str = Field(max_length=64)
    password: str = Field(max_length=128)


class FlowStep(BaseModel):
    flow_id: str = Field(max_length=64)


class CodeStep(FlowStep):
    code: str = Field(max_length=16)


class IdentityStep(FlowStep):
    tax_id: str = Field(max_length=64)
    identity_code: str = Field(max_length=4)


class SwitchRequest(BaseModel):
    tax_id: str = Field(max_length=64)
    identity_code: str | None = Field(default=None, max_length=4)


def current_session(
    bureau: BureauDep,
    x_sim_session: Annotated[str | None, Header()] = None,
    cookie: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Session:
    return sessions.touch(bureau, x_sim_session or cookie)


SessionDep = Annotated[Session, Depends(current_session)]


@router.post("/login/password")
async def password_step(body: PasswordStep, bureau: BureauDep) -> Reply:
    flow = login.start(bureau, body.tax_id, body.account, body.password, "banshui")
    return ok(
        {"next": "sms", "flow_id": flow.flow_id, "phone_masked": mask(flow.phone)}
    )


@router.post("/login/send-code")
async def send_code(body: FlowStep, bureau: BureauDep) -> Reply:
    sms = login.send_code(bureau, body.flow_id)
    bureau.send(sms)
    return ok({"sent": True, "valid_seconds": bureau.config.code_valid_seconds})


@router.post("/login/submit-code")
async def submit_code(body: CodeStep, bureau: BureauDep) -> Reply:
    relations = login.submit_code(bureau, body.flow_id, body.code)
    identities = [_identity(bureau, relation) for relation in relations]
    return ok({"next": "identity", "identities": identities})


@router.post("/login/identity")
async def choose_identity(
    body: IdentityStep, bureau: BureauDep, response: Response
) -> Reply:
    session = login.choose_identity(
        bureau, body.flow_id, body.tax_id, body.identity_code
    )
    response.set_cookie(SESSION_COOKIE, session.token, path="/", httponly=True)
    return ok({"session_token": session.token, **_session(bureau, session)})


@router.get("/session")
async def session_state(session: SessionDep, bureau: BureauDep) -> Reply:
    return ok({"alive": True, **_session(bureau, session)})


@router.get("/session/enterprises")
async def enterprises(session: SessionDep, bureau: BureauDep) -> Reply:
    relations = sessions.switchable(bureau, session)
    listed = [_switch_target(bureau, session, relation) for relation in relations]
    return ok({"enterprises": listed})


@router.post("/session/switch")
async def switch(body: SwitchRequest, session: SessionDep, bureau: BureauDep) -> Reply:
    sessions.switch(bureau, session, body.tax_id, body.identity_code)
    return ok({"alive": True, **_session(bureau, session)})


@router.get("/invoices/incoming")
async def incoming_invoices(session: SessionDep, bureau: BureauDep) -> Reply:
    today = bureau_day(bureau.clock.now())
    listed = invoices.incoming(session.tax_id, today)
    return ok({"tax_id": session.tax_id, "invoices": listed})


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
