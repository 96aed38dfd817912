"""The login site's HTML pages, for the browser driver and for people.

Laid out like the real login page: tax id, account, password, a slider where the
region shows one, the get-code button and the code box, the choice of identity,
the issuer's face check, and the session's home page with 企业切换. Rendered on
the server; the same steps as the JSON API, with the same faults and refusals.
A refusal is shown on the page as `<p class="error" data-code>`.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from banshui.simulator import errors, login, sessions, slider
from banshui.simulator.answers import BureauDep, ok
from banshui.simulator.api import SESSION_COOKIE, Taken, faulted, step_path
from banshui.simulator.bureau import Bureau
from banshui.simulator.errors import BureauError
from banshui.simulator.face_api import qr_url
from banshui.simulator.flows import open_flow
from banshui.simulator.identities import identity_name
from banshui.simulator.inputs import PathToken
from banshui.simulator.phones import mask
from banshui.simulator.regions import REGIONS, client_id, region_name
from banshui.simulator.state import FaceCheck, Flow, Relation, Session

router = APIRouter()

_templates = Environment(
    loader=PackageLoader("banshui.simulator", "templates"),
    autoescape=select_autoescape(["html"]),
)

Text = Annotated[str, Form(max_length=128)]
BUSINESSES: dict[str, login.Business] = {"issue": "issue", "receive": "receive"}
SessionToken = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, client: Annotated[str, Query(alias="client_id", max_length=64)]
) -> HTMLResponse:
    region = _region_of_client(client)
    if region is None:
        refusal = BureauError(2102, "客户端标识有误，请从所在地区电子税务局登录")
        return _page(request, "login.html", "用户登录", error=refusal)

    return _page(request, "login.html", "用户登录", region, client_id=client)


@router.post("/login", response_model=None)
async def log_in(
    request: Request,
    bureau: BureauDep,
    client: Annotated[str, Form(alias="client_id", max_length=64)],
    tax_id: Text,
    account: Text,
    password: Text,
) -> Response:
    def act() -> Taken:
        login.check_client(bureau, tax_id, client)
        # Counted as banshui's, as the API's are: a person's own logins are made
        # through the admin API, which reads the code off the phone too.
        flow = login.start(bureau, tax_id, account, password, "banshui")
        return Taken(ok({"flow_id": flow.flow_id}), flow.flow_id)

    region = _region_of_client(client)
    try:
        answer = await faulted(bureau, "password", act)
    except BureauError as refusal:
        page = "login.html"
        return _page(request, page, "用户登录", region, client_id=client, error=refusal)

    return _see(request, f"/login/flow/{answer['data']['flow_id']}")


@router.get("/login/flow/{flow_id}", response_class=HTMLResponse)
async def flow_page(
    flow_id: PathToken, request: Request, bureau: BureauDep, sent: bool = False
) -> HTMLResponse:
    return _flow_page(request, bureau, flow_id, sent=sent)


@router.post("/login/flow/{flow_id}/slider", response_model=None)
async def slide(
    flow_id: PathToken,
    request: Request,
    bureau: BureauDep,
    offset: Annotated[int, Form(ge=-10_000, le=10_000)],
) -> Response:
    def act() -> Taken:
        slider.solve(bureau, flow_id, offset)
        return Taken(ok({}))

    return await _flow_step(request, bureau, flow_id, "slider", act)


@router.post("/login/flow/{flow_id}/send-code", response_model=None)
async def send_code(
    flow_id: PathToken, request: Request, bureau: BureauDep
) -> Response:
    def act() -> Taken:
        sms = login.send_code(bureau, flow_id)
        bureau.send(sms)
        return Taken(ok({}), sms_id=sms.sms_id)

    return await _flow_step(request, bureau, flow_id, "send-code", act, "?sent=1")


@router.post("/login/flow/{flow_id}/code", response_model=None)
async def submit_code(
    flow_id: PathToken,
    request: Request,
    bureau: BureauDep,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    def act() -> Taken:
        login.submit_code(bureau, flow_id, code)
        return Taken(ok({}))

    return await _flow_step(request, bureau, flow_id, "submit-code", act)


@router.post("/login/flow/{flow_id}/identity", response_model=None)
async def choose_identity(
    flow_id: PathToken,
    request: Request,
    bureau: BureauDep,
    identity: Annotated[str, Form(max_length=80)] = "",
    business: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    tax_id, _, identity_code = identity.partition("|")
    chosen: list[Session] = []

    def act() -> Taken:
        asked = BUSINESSES.get(business)
        made = login.choose_identity(bureau, flow_id, tax_id, identity_code, asked)
        if isinstance(made, Session):
            chosen.append(made)
        return Taken(ok({}))

    answer = await _flow_step(request, bureau, flow_id, "identity", act)
    return _with_session(request, chosen, answer)


@router.post("/login/flow/{flow_id}/face-check", response_model=None)
async def after_face_check(
    flow_id: PathToken, request: Request, bureau: BureauDep
) -> Response:
    check = _face_check_of(bureau, flow_id)
    chosen: list[Session] = []

    def act() -> Taken:
        if check is None:
            raise errors.unknown_face_check()
        chosen.append(login.session_after_face_check(bureau, check.face_check_id))
        return Taken(ok({}))

    answer = await _flow_step(request, bureau, flow_id, "face-check session", act)
    return _with_session(request, chosen, answer)


@router.get("/etax", response_class=HTMLResponse)
async def session_home(
    request: Request, bureau: BureauDep, token: SessionToken = None
) -> HTMLResponse:
    try:
        session = sessions.touch(bureau, token)
    except BureauError as refusal:
        return _page(request, "etax.html", "我的首页", error=refusal)

    return _home(request, bureau, session)


@router.post("/etax/switch", response_model=None)
async def switch(
    request: Request,
    bureau: BureauDep,
    tax_id: Annotated[str, Form(max_length=64)],
    token: SessionToken = None,
) -> Response:
    try:
        session = sessions.touch(bureau, token)
    except BureauError as refusal:
        return _page(request, "etax.html", "我的首页", error=refusal)

    try:
        sessions.switch(bureau, session, tax_id, None)
    except BureauError as refusal:
        return _home(request, bureau, session, refusal)

    return _see(request, "/etax")


# Rendering.


async def _flow_step(
    request: Request,
    bureau: Bureau,
    flow_id: str,
    step: str,
    act: Callable[[], Taken],
    then: str = "",
) -> Response:
    """Take a step of a flow; its page again, with the refusal if there was one."""
    try:
        await faulted(bureau, step, act, flow_id)
    except BureauError as refusal:
        return _flow_page(request, bureau, flow_id, error=refusal)

    return _see(request, f"/login/flow/{flow_id}{then}")


def _flow_page(
    request: Request,
    bureau: Bureau,
    flow_id: str,
    sent: bool = False,
    error: BureauError | None = None,
) -> HTMLResponse:
    try:
        flow = open_flow(bureau, flow_id)
        if flow.finished:
            raise errors.flow_finished()
    except BureauError as refusal:
        return _page(request, "flow.html", "登录", error=error or refusal)

    view = _step_view(request, bureau, flow)
    region = flow.region
    url = _root(request) + f"/login/flow/{flow.flow_id}"
    return _page(
        request,
        "flow.html",
        "登录",
        region,
        error=error,
        flow_url=url,
        sent=sent,
        **view,
    )


def _step_view(request: Request, bureau: Bureau, flow: Flow) -> dict[str, Any]:
    """What the flow waits for now: a face check, an identity, the slider or a code."""
    check = _face_check_of(bureau, flow.flow_id)
    if check is not None:
        status = "approved" if check.approved else "pending"
        face = {
            "face_check_id": check.face_check_id,
            "status": status,
            "qr_url": qr_url(request, check.face_check_id),
        }
        return {"step": "face_check", "face_check": face}

    if flow.verified:
        listed = [_identity(bureau, r) for r in login.identities(bureau, flow)]
        return {"step": "identity", "identities": listed}

    if flow.slider is not None and not flow.slider_passed:
        return {"step": "slider", "slider": flow.slider}

    assert flow.phone is not None
    minutes = bureau.config.code_valid_seconds // 60
    return {"step": "sms", "phone_masked": mask(flow.phone), "valid_minutes": minutes}


def _home(
    request: Request,
    bureau: Bureau,
    session: Session,
    error: BureauError | None = None,
) -> HTMLResponse:
    current = (session.tax_id, session.identity_code)
    listed = [
        {**_identity(bureau, r), "current": (r.tax_id, r.identity_code) == current}
        for r in sessions.switchable(bureau, session)
    ]
    shown = {
        "tax_id": session.tax_id,
        "enterprise_name": bureau.state.enterprises[session.tax_id].name,
        "identity_code": session.identity_code,
        "identity_name": identity_name(session.identity_code),
    }
    return _page(
        request,
        "etax.html",
        "我的首页",
        session.region,
        session=shown,
        enterprises=listed,
        error=error,
    )


def _identity(bureau: Bureau, relation: Relation) -> dict[str, Any]:
    return {
        "tax_id": relation.tax_id,
        "enterprise_name": bureau.state.enterprises[relation.tax_id].name,
        "identity_code": relation.identity_code,
        "identity_name": identity_name(relation.identity_code),
        "confirmed": relation.confirmed,
    }


def _face_check_of(bureau: Bureau, flow_id: str) -> FaceCheck | None:
    """The issuer's face check the flow waits for, if any (the newest)."""
    found = [
        check
        for check in bureau.state.face_checks.values()
        if check.purpose == "issue" and check.subject == flow_id
    ]
    return found[-1] if found else None


def _with_session(
    request: Request, chosen: list[Session], answer: Response
) -> Response:
    """A session made by the step goes to the home page with its cookie."""
    if not chosen or not isinstance(answer, RedirectResponse):
        return answer

    home = _see(request, "/etax")
    home.set_cookie(SESSION_COOKIE, chosen[0].token, path="/", httponly=True)
    return home


def _page(
    request: Request,
    template: str,
    title: str,
    region: str | None = None,
    **values: Any,
) -> HTMLResponse:
    html = _templates.get_template(template).render(
        title=title,
        region_name=region_name(region) if region else None,
        root=_root(request),
        **values,
    )
    return HTMLResponse(html)


def _see(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(_root(request) + path, status_code=303)


def _root(request: Request) -> str:
    """The simulator's own root, under its mount's prefix when mounted."""
    path = str(request.scope["path"])
    return path[: len(path) - len(step_path(request))]


def _region_of_client(client: str) -> str | None:
    return next((region for region in REGIONS if client_id(region) == client), None)
