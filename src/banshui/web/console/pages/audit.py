"""审计日志: who changed ownership or access, who saw a code or took a session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from banshui.api.deps import runtime_of
from banshui.web.console.audit import SHOWN, entries
from banshui.web.console.guard import ConsoleRoute, Viewing
from banshui.web.console.rendering import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, caller: Viewing, before: int | None = None
) -> Response:
    lines = await entries(runtime_of(request).db, caller, before)
    older = lines[-1].id if len(lines) == SHOWN else None
    return render(
        request, "console/audit.html", caller, {"lines": lines, "older": older}
    )
