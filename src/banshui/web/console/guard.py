"""Who is calling the console, what their role lets them do, and the CSRF check.

Every console route runs through ``ConsoleRoute``: a caller who is not signed in
is sent to the sign-in page, a refusal becomes a page in Chinese, and every
response carries the same strict headers. Every POST is checked against the
session's CSRF token before its handler sees the form, and a form with a NUL in
a field is refused before its handler reads it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from banshui.accounts.models import Tenant
from banshui.api.bodies import NUL
from banshui.api.deps import runtime_of
from banshui.core.errors import BanshuiError, Forbidden, InvalidInput
from banshui.core.settings import load_secret_key
from banshui.operators.roles import LABELS, Role, may
from banshui.operators.sessions import COOKIE, Cookies, current_session
from banshui.runtime import Runtime
from banshui.web.console.refusals import FIELDS

CSRF_FIELD = "csrf_token"
STALE_FORM = "表单已过期或来源不明，请刷新页面后重试。"
NOT_ALLOWED = "你的角色没有这项权限。"

# Pages show codes and numbers: nothing is cached, framed or sent elsewhere.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        "style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SignInNeeded(Exception):
    """No valid session: the caller is sent to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in operator, as every page and action sees them."""

    operator_id: int
    name: str
    role: Role
    tenant_id: int | None
    tenant_name: str | None
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"console:{self.name}"

    @property
    def stream_holder(self) -> str:
        """Whose live streams a stream of this caller counts among."""
        return f"operator:{self.operator_id}"

    @property
    def masked(self) -> bool:
        """Viewers see numbers masked and no codes."""
        return self.role is Role.VIEWER

    @property
    def role_label(self) -> str:
        return LABELS[self.role]

    def may(self, needed: str) -> bool:
        return may(self.role, Role(needed))

    def sees(self, tenant_id: int | None) -> bool:
        """Whether this caller may see something of ``tenant_id``."""
        return self.tenant_id is None or self.tenant_id == tenant_id


def cookies_of(runtime: Runtime) -> Cookies:
    """The cookie signer, made once per runtime from the settings' secret key."""
    made = runtime.extras.get("console.cookies")
    if made is None:
        made = Cookies(load_secret_key(runtime.settings))
        runtime.extras["console.cookies"] = made
    return cast(Cookies, made)


async def signed_in(request: Request) -> Caller:
    """The caller; a POST must also carry the session's CSRF token."""
    runtime = runtime_of(request)
    cookie = request.cookies.get(COOKIE)
    found = None
    if cookie:
        found = await current_session(
            runtime.db, runtime.clock, cookies_of(runtime), cookie
        )
    if found is None:
        raise SignInNeeded()

    operator = found.operator
    caller = Caller(
        operator_id=operator.id,
        name=operator.name,
        role=Role(operator.role),
        tenant_id=operator.tenant_id,
        tenant_name=await _tenant_name(runtime, operator.tenant_id),
        csrf_token=found.csrf_token,
    )
    request.state.caller = caller
    if request.method == "POST":
        await check_csrf(await request.form(), caller.csrf_token)
    return caller


async def check_csrf(form: FormData, expected: str) -> None:
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), expected.encode()
    ):
        raise Forbidden(STALE_FORM, field=CSRF_FIELD)


def refuse_nul(form: FormData) -> None:
    """No form field holds a NUL, which no field may hold and PostgreSQL refuses."""
    for name, value in form.multi_items():
        if isinstance(value, str) and (NUL in value or NUL in name):
            field = name if NUL not in name else None
            label = FIELDS.get(name, "填写的内容")
            message = f"{label}含有不可见的 NUL 字符，请删除后重试。"
            raise InvalidInput(message, field=field)


def needs(role: Role) -> Callable[[Request], Coroutine[Any, Any, Caller]]:
    """A dependency: the caller, if their role is ``role`` or above."""

    async def allowed(request: Request) -> Caller:
        caller = await signed_in(request)
        if not may(caller.role, role):
            raise Forbidden(NOT_ALLOWED)
        return caller

    return allowed


Viewing = Annotated[Caller, Depends(signed_in)]
Operating = Annotated[Caller, Depends(needs(Role.OPERATOR))]
Administering = Annotated[Caller, Depends(needs(Role.ADMIN))]


class ConsoleRoute(APIRoute):
    """Console errors become pages (or a redirect), never the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if request.method == "POST":
                    refuse_nul(await request.form())
                response = await handler(request)
            except SignInNeeded:
                response = RedirectResponse(_sign_in_url(request), status_code=303)
            except BanshuiError as error:
                # Imported here: the pages import this module.
                from banshui.web.console.rendering import error_page

                response = error_page(request, error)
            response.headers.update(HEADERS)
            return response

        return guarded


def _sign_in_url(request: Request) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET" or target == "/":
        return "/login"
    return "/login?next=" + quote(target, safe="")


async def _tenant_name(runtime: Runtime, tenant_id: int | None) -> str | None:
    if tenant_id is None:
        return None
    async with runtime.db.session() as session:
        tenant = await session.get(Tenant, tenant_id)
    return tenant.name if tenant is not None else None
