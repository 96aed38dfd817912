"""``/login`` and ``/logout``: operators sign in with their name and password."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from banshui.api.deps import runtime_of
from banshui.core.addresses import client_of
from banshui.core.errors import Forbidden
from banshui.operators.sessions import (
    COOKIE,
    LIFETIME,
    SIGN_IN_COOKIE,
    end_session,
    new_token,
    open_session,
)
from banshui.operators.signin import SignInRefused, sign_in
from banshui.web.console.guard import (
    STALE_FORM,
    ConsoleRoute,
    Viewing,
    check_csrf,
    cookies_of,
)
from banshui.web.console.rendering import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
HOME = "/enterprises"


@router.get("/", response_class=RedirectResponse)
async def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str = HOME) -> Response:
    return _form(request, _safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def sign_in_posted(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    target = _safe_next(str(form.get("next", HOME)))
    expected = cookies_of(runtime).sign_in_token(
        request.cookies.get(SIGN_IN_COOKIE, "")
    )
    try:
        if expected is None:
            raise Forbidden(STALE_FORM)
        await check_csrf(form, expected)
    except Forbidden as refused:
        return _form(request, target, message=refused.message, status=403)

    client = client_of(request)
    try:
        operator = await sign_in(
            runtime.db,
            runtime.clock,
            str(form.get("name", "")),
            str(form.get("password", "")),
            client,
        )
    except SignInRefused as refused:
        name = str(form.get("name", ""))[:64]
        return _form(request, target, name, refused.message, refused.status)

    opened = await open_session(
        runtime.db, runtime.clock, cookies_of(runtime), operator
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        opened.cookie,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE)
    return response


@router.post("/logout")
async def sign_out(request: Request, caller: Viewing) -> Response:
    runtime = runtime_of(request)
    await end_session(runtime.db, cookies_of(runtime), request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _form(
    request: Request,
    target: str,
    name: str = "",
    message: str | None = None,
    status: int = 200,
) -> Response:
    """The form, with a fresh CSRF token in a signed cookie and in the form."""
    token = new_token()
    context = {"next": target, "name": name, "message": message, "token": token}
    response = render(request, "console/sign_in.html", None, context, status)
    response.set_cookie(
        SIGN_IN_COOKIE,
        cookies_of(runtime_of(request)).sign_in_cookie(token),
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


def _safe_next(target: str) -> str:
    """Only a path of this site: never another host (``//evil``, ``/\\evil``)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    if target.startswith("/login"):
        return HOME
    return target


def _secure(request: Request) -> bool:
    return runtime_of(request).settings.public_url.startswith("https://")
