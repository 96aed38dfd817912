"""Rendering a console page: the layout's context, flash notes and error pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from banshui.core.errors import BanshuiError, TooManyRequests
from banshui.numbers.phones import mask
from banshui.operators.roles import Role, may
from banshui.web.console.guard import CSRF_FIELD, Caller
from banshui.web.console.logins import business_label, status_label, tone
from banshui.web.console.refusals import in_chinese
from banshui.web.templating import templates


@dataclass(frozen=True, slots=True)
class Link:
    path: str
    label: str
    needs: Role


NAV = (
    Link("/enterprises", "企业", Role.VIEWER),
    Link("/persons", "自然人", Role.VIEWER),
    Link("/inbox", "收件箱", Role.VIEWER),
    Link("/logins", "登录请求", Role.VIEWER),
    Link("/audit", "审计日志", Role.VIEWER),
    Link("/users", "用户", Role.ADMIN),
)

# What a redirect after a form says (?done=…): fixed texts, nothing reflected.
DONE = {
    "account_added": "已新增电子税局账号。",
    "password_changed": "已更新密码：该自然人的所有账号同时生效。",
    "default_set": "已设为该企业的默认账号。",
    "business_set": "已更新默认业务。",
    "person_added": "已新增自然人。",
    "number_added": "已记录：号码已在税局添加到该自然人名下。",
    "refusal_noted": "已记录该地区拒绝添加。",
    "hosting_set": "已更换 appKey/appSecret。",
    "user_added": "已新增用户。",
    "user_unlocked": "已解除锁定。",
    "user_disabled": "已停用该用户：其登录已全部结束。",
    "user_enabled": "已启用该用户。",
    "role_changed": "已修改角色：从该用户的下一次操作起生效。",
    "password_reset": "已重置密码：该用户的登录已全部结束，须用新密码重新登录。",
    "own_password_changed": "已修改密码：你在其他地方的登录已全部退出。",
    "enterprise_added": "已新增企业。",
    "released": "已释放租约。",
}

TITLES = {
    403: "没有权限",
    404: "找不到页面",
    409: "无法完成",
    422: "输入有误",
    429: "请稍后再试",
}


def render(
    request: Request,
    template: str,
    caller: Caller | None,
    context: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    full: dict[str, Any] = {
        "me": caller,
        "nav": _nav(caller),
        "here": request.url.path,
        "done": DONE.get(request.query_params.get("done", "")),
        "csrf_field": CSRF_FIELD,
        **context,
    }
    return templates.TemplateResponse(request, template, full, status_code=status)


def error_page(request: Request, error: BanshuiError) -> HTMLResponse:
    caller: Caller | None = getattr(request.state, "caller", None)
    title = TITLES.get(error.status, "出错了")
    context = {"title": title, "message": in_chinese(error)}
    page = render(request, "console/error.html", caller, context, error.status)
    if isinstance(error, TooManyRequests):
        page.headers["Retry-After"] = str(error.retry_after)
    return page


def _nav(caller: Caller | None) -> list[Link]:
    if caller is None:
        return []
    return [link for link in NAV if may(caller.role, link.needs)]


def _phone(number: str | None, masked: bool) -> str:
    """A number as the caller may see it: whole, or masked for viewers."""
    if number is None:
        return "—"
    return mask(number) if masked else number


templates.env.filters["phone"] = _phone
templates.env.globals.update(
    status_label=status_label, tone=tone, business_label=business_label
)
