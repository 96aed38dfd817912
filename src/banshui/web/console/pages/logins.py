"""登录请求: login requests, each with its timeline, followed live."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from banshui.api.deps import runtime_of
from banshui.core.streams import HeldStream
from banshui.login.engine import LoginEngine
from banshui.web.console import logins as shown_logins
from banshui.web.console.guard import Caller, ConsoleRoute, Operating, Viewing
from banshui.web.console.rendering import render
from banshui.web.templating import templates

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# Without a change in this process, the request is read again this often.
RECHECK_SECONDS = 2.0


@router.get("/logins", response_class=HTMLResponse)
async def logins_page(request: Request, caller: Viewing) -> Response:
    rows = await shown_logins.recent(runtime_of(request).db, caller)
    return render(request, "console/logins.html", caller, {"rows": rows})


@router.get("/logins/{login_id}", response_class=HTMLResponse)
async def login_page(request: Request, login_id: str, caller: Viewing) -> Response:
    found = await shown_logins.one(runtime_of(request).db, caller, login_id)
    return render(request, "console/login.html", caller, {"shown": found})


@router.get("/logins/{login_id}/stream")
async def login_stream(
    request: Request, login_id: str, caller: Viewing
) -> StreamingResponse:
    runtime = runtime_of(request)
    await shown_logins.one(runtime.db, caller, login_id)
    place = runtime.streams.take(caller.stream_holder)
    return HeldStream(
        _events(request, caller, login_id),
        place,
        headers={"X-Accel-Buffering": "no"},
    )


@router.post("/logins/{login_id}/release")
async def release(request: Request, login_id: str, caller: Operating) -> Response:
    runtime = runtime_of(request)
    found = await shown_logins.one(runtime.db, caller, login_id)
    engine = cast(LoginEngine, runtime.extras["engine"])
    await engine.release(found.login.id, found.login.tenant_id)
    return RedirectResponse(f"/logins/{found.login.id}?done=released", 303)


async def _events(
    request: Request, caller: Caller, login_id: str
) -> AsyncIterator[str]:
    runtime = runtime_of(request)
    engine = cast(LoginEngine, runtime.extras["engine"])
    yield "retry: 2000\n\n"
    async with engine.feed.subscribe(login_id) as changes:
        # Read after subscribing, so no change falls between the two.
        found = await shown_logins.one(runtime.db, caller, login_id)
        seen = len(found.events)
        yield _event(found, caller)
        while not found.final and not await request.is_disconnected():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changes.get(), RECHECK_SECONDS)
            found = await shown_logins.one(runtime.db, caller, login_id)
            if len(found.events) != seen:
                seen = len(found.events)
                yield _event(found, caller)


def _event(found: shown_logins.Shown, caller: Caller) -> str:
    template = templates.get_template("console/_login.html")
    html = template.render(shown=found, me=caller)
    data = json.dumps({"html": html, "final": found.final}, ensure_ascii=False)
    return f"event: login\ndata: {data}\n\n"
