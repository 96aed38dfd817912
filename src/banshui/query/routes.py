"""``/query``: the public form where a person reads a number's code with its PIN."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from banshui.api.deps import runtime_of
from banshui.core.addresses import client_of
from banshui.query.display import ShownSms
from banshui.query.service import QueryRefused, look_up
from banshui.web.templating import templates

router = APIRouter(include_in_schema=False)

# Codes must not linger in caches or history, and the page never runs script.
_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@router.get("/query", response_class=HTMLResponse)
async def query_form(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/query", response_class=HTMLResponse)
async def query_number(
    request: Request,
    number: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
) -> HTMLResponse:
    runtime = runtime_of(request)
    client = client_of(request)
    try:
        shown = await look_up(runtime, client, number, pin)
    except QueryRefused as refused:
        return _page(request, number, message=refused.message, status=refused.status)
    return _page(request, number, shown=shown)


def _page(
    request: Request,
    number: str = "",
    *,
    shown: list[ShownSms] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "number": number[:32],
        "shown": shown,
        "message": message,
    }
    return templates.TemplateResponse(
        request, "query.html", context, status_code=status, headers=_HEADERS
    )
