"""用户: the console's operators, for admins of the tenant or the platform."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from banshui.api.deps import runtime_of
from banshui.core.errors import (
    BanshuiError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from banshui.operators.models import Operator
from banshui.operators.passwords import MAX_LENGTH, MIN_LENGTH, valid_password
from banshui.operators.roles import LABELS, Role, validate_role
from banshui.operators.users import (
    ChangedBy,
    add_operator,
    list_operators,
    reset_password,
    set_disabled,
    set_role,
    unlock,
    valid_name,
)
from banshui.web.console import forms, scope
from banshui.web.console.guard import Administering, Caller, ConsoleRoute
from banshui.web.console.refusals import in_chinese
from banshui.web.console.rendering import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, caller: Administering) -> Response:
    return await _page(request, caller, {}, None)


@router.post("/users", response_class=HTMLResponse)
async def add_user(request: Request, caller: Administering) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    try:
        name, password, role = _checked(form)
        tenant_id = await _tenant(request, caller, forms.text(form, "tenant_id"))
        await add_operator(
            runtime.db,
            runtime.clock,
            name=name,
            password=password,
            role=role,
            tenant_id=tenant_id,
            actor=caller.actor,
        )
    except Conflict:
        refused = Conflict("已有同名用户。", field="name")
        return await _page(request, caller, _kept(form), refused)
    except BanshuiError as refused:
        return await _page(request, caller, _kept(form), refused)
    return RedirectResponse("/users?done=user_added", 303)


@router.post("/users/{operator_id}/unlock")
async def unlock_user(
    request: Request, operator_id: int, caller: Administering
) -> Response:
    runtime = runtime_of(request)
    await _scoped(
        unlock(runtime.db, runtime.clock, operator_id, caller.tenant_id, caller.actor)
    )
    return RedirectResponse("/users?done=user_unlocked", 303)


@router.post("/users/{operator_id}/role")
async def change_role(
    request: Request, operator_id: int, caller: Administering
) -> Response:
    """A new role, in force from the operator's next click."""
    runtime = runtime_of(request)
    _not_oneself(caller, operator_id, "不能修改自己的角色。")
    try:
        role = validate_role(forms.text(await request.form(), "role"))
    except InvalidInput:
        raise InvalidInput("请选择角色。", field="role") from None
    await _scoped(set_role(runtime.db, runtime.clock, operator_id, role, _by(caller)))
    return RedirectResponse("/users?done=role_changed", 303)


@router.post("/users/{operator_id}/disable")
async def disable_user(
    request: Request, operator_id: int, caller: Administering
) -> Response:
    """停用: no more sign-ins, and the operator's sessions end now."""
    runtime = runtime_of(request)
    _not_oneself(caller, operator_id, "不能停用自己。")
    await _scoped(
        set_disabled(runtime.db, runtime.clock, operator_id, True, _by(caller))
    )
    return RedirectResponse("/users?done=user_disabled", 303)


@router.post("/users/{operator_id}/enable")
async def enable_user(
    request: Request, operator_id: int, caller: Administering
) -> Response:
    runtime = runtime_of(request)
    _not_oneself(caller, operator_id, "不能启用自己。")
    await _scoped(
        set_disabled(runtime.db, runtime.clock, operator_id, False, _by(caller))
    )
    return RedirectResponse("/users?done=user_enabled", 303)


@router.post("/users/{operator_id}/password")
async def reset_user_password(
    request: Request, operator_id: int, caller: Administering
) -> Response:
    """重置密码: a new password for another operator; their sessions end now."""
    runtime = runtime_of(request)
    _not_oneself(caller, operator_id, "你自己的密码请在「我的账号」中修改。")
    form = await request.form()
    password = forms.secret(form, "password")
    _strong(password, "password")
    if password != forms.secret(form, "password_again"):
        raise InvalidInput("两次输入的新密码不一致。", field="password_again")
    await _scoped(
        reset_password(runtime.db, runtime.clock, operator_id, password, _by(caller))
    )
    return RedirectResponse("/users?done=password_reset", 303)


def _not_oneself(caller: Caller, operator_id: int, message: str) -> None:
    # Checked here too, so the refusal reads in Chinese.
    if operator_id == caller.operator_id:
        raise Forbidden(message)


async def _scoped(change: Awaitable[Operator]) -> None:
    """Run the change; an operator out of the admin's scope is not there."""
    try:
        await change
    except NotFound:
        raise NotFound("没有这个用户。") from None


def _by(caller: Caller) -> ChangedBy:
    return ChangedBy(caller.operator_id, caller.tenant_id, caller.actor)


def _checked(form: FormData) -> tuple[str, str, Role]:
    """Name, password and role, each checked, refused in Chinese."""
    try:
        name = valid_name(forms.text(form, "name", 200))
    except InvalidInput:
        raise InvalidInput("用户名应为 1–64 个字符，不含空格。", field="name") from None
    password = forms.secret(form, "password")
    _strong(password, "password")
    if password != forms.secret(form, "password_again"):
        raise InvalidInput("两次输入的密码不一致。", field="password_again")
    try:
        role = validate_role(forms.text(form, "role"))
    except InvalidInput:
        raise InvalidInput("请选择角色。", field="role") from None
    return name, password, role


def _strong(password: str, field: str) -> None:
    """The rules of every operator password, refused in Chinese."""
    try:
        valid_password(password, field=field)
    except InvalidInput:
        raise InvalidInput(
            f"密码应为 {MIN_LENGTH}–{MAX_LENGTH} 个字符，且不能过于简单。",
            field=field,
        ) from None


def _kept(form: FormData) -> dict[str, str]:
    return {name: forms.text(form, name) for name in ("name", "role", "tenant_id")}


async def _tenant(request: Request, caller: Caller, chosen: str) -> int | None:
    """A tenant's admin adds to their tenant only; the platform's may choose."""
    if caller.tenant_id is not None:
        if chosen and chosen != str(caller.tenant_id):
            raise Forbidden("只能为本租户新增用户。", field="tenant_id")
        return caller.tenant_id
    if not chosen:
        return None  # platform-wide
    async with runtime_of(request).db.session() as session:
        return await scope.tenant_for_new(session, caller, chosen)


async def _page(
    request: Request,
    caller: Caller,
    values: dict[str, str],
    refused: BanshuiError | None,
) -> Response:
    runtime = runtime_of(request)
    operators = await list_operators(runtime.db, caller.tenant_id)
    async with runtime.db.session() as session:
        tenants = await scope.tenants(session, caller)
    context: dict[str, Any] = {
        "operators": operators,
        "tenants": {tenant.id: tenant.name for tenant in tenants},
        "roles": LABELS,
        "role_values": [role.value for role in Role],
        "min_length": MIN_LENGTH,
        "now": runtime.clock.now(),
        "values": values,
        "error": in_chinese(refused) if refused else None,
        "error_field": refused.field if refused else None,
    }
    return render(
        request,
        "console/users.html",
        caller,
        context,
        refused.status if refused else 200,
    )
