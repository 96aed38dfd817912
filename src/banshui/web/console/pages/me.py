"""我的账号: every operator sees who they are and changes their own password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from banshui.api.deps import runtime_of
from banshui.core.errors import BanshuiError, InvalidInput
from banshui.operators.password_change import WrongPassword, change_own_password
from banshui.operators.passwords import MAX_LENGTH, MIN_LENGTH
from banshui.operators.sessions import COOKIE
from banshui.web.console import forms
from banshui.web.console.guard import Caller, ConsoleRoute, Viewing, cookies_of
from banshui.web.console.rendering import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

WRONG = "当前密码不正确。连续输错 5 次，账号将锁定 15 分钟。"
WEAK = f"新密码应为 {MIN_LENGTH}–{MAX_LENGTH} 个字符，且不能过于简单。"
SAME = "新密码不能与当前密码相同。"
AGAIN = "两次输入的新密码不一致。"


@router.get("/me", response_class=HTMLResponse)
async def me_page(request: Request, caller: Viewing) -> Response:
    return _page(request, caller, None)


@router.post("/me/password", response_class=HTMLResponse)
async def change_password(request: Request, caller: Viewing) -> Response:
    """Old password first; every other session of the operator ends."""
    runtime = runtime_of(request)
    form = await request.form()
    current = forms.secret(form, "current_password")
    new = forms.secret(form, "new_password")
    keep = cookies_of(runtime).session_token(request.cookies.get(COOKIE, ""))
    try:
        if new != forms.secret(form, "new_password_again"):
            raise InvalidInput(AGAIN, field="new_password_again")
        await change_own_password(
            runtime.db, runtime.clock, caller.operator_id, current, new, keep
        )
    except WrongPassword as wrong:
        if wrong.locked:
            return RedirectResponse("/login", 303)
        return _page(request, caller, InvalidInput(WRONG, field="current_password"))
    except BanshuiError as refused:
        return _page(request, caller, _in_chinese(refused))
    return RedirectResponse("/me?done=own_password_changed", 303)


def _in_chinese(refused: BanshuiError) -> BanshuiError:
    if refused.field != "new_password":
        return refused
    same = refused.message.startswith("must differ")
    return InvalidInput(SAME if same else WEAK, field="new_password")


def _page(request: Request, caller: Caller, refused: BanshuiError | None) -> Response:
    context = {
        "error": refused.message if refused else None,
        "error_field": refused.field if refused else None,
        "min_length": MIN_LENGTH,
    }
    status = refused.status if refused else 200
    return render(request, "console/me.html", caller, context, status)
