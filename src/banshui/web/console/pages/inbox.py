"""收件箱: the latest SMS, and new ones as they arrive (server-sent events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from banshui.api.deps import runtime_of
from banshui.core.streams import HeldStream
from banshui.web.console import scope
from banshui.web.console.guard import Caller, ConsoleRoute, Viewing
from banshui.web.console.inbox import Item, latest
from banshui.web.console.rendering import render
from banshui.web.templating import templates

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

POLL_SECONDS = 1.0
KEEP_ALIVE_POLLS = 15
# A stream ends after this; the browser reconnects from the last id it saw.
STREAM_SECONDS = 300.0


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(
    request: Request, caller: Viewing, number: int | None = None
) -> Response:
    runtime = runtime_of(request)
    msisdn = await _msisdn(request, caller, number)
    items = await latest(runtime, caller, number=msisdn)
    stream = "/inbox/stream" + (f"?number={number}" if msisdn else "")
    context = {
        "items": items,
        "number_id": number if msisdn else None,
        "number": msisdn,
        "stream": stream,
        "last_id": items[0].id if items else 0,
    }
    return render(request, "console/inbox.html", caller, context)


@router.get("/inbox/stream")
async def inbox_stream(
    request: Request, caller: Viewing, number: int | None = None, after: int = 0
) -> StreamingResponse:
    msisdn = await _msisdn(request, caller, number)
    resumed = request.headers.get("last-event-id", "")
    start = max(after, int(resumed) if resumed.isdigit() else 0)
    place = runtime_of(request).streams.take(caller.stream_holder)
    return HeldStream(
        _events(request, caller, msisdn, start),
        place,
        headers={"X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, caller: Caller, msisdn: str | None, last: int
) -> AsyncIterator[str]:
    runtime = runtime_of(request)
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    idle = 0
    yield "retry: 2000\n\n"
    while loop.time() < ends and not await request.is_disconnected():
        items = await latest(runtime, caller, after=last, number=msisdn)
        for item in reversed(items):
            yield _event(item, caller)
            last = max(last, item.id)
        idle = 0 if items else idle + 1
        if idle >= KEEP_ALIVE_POLLS:
            idle = 0
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


def _event(item: Item, caller: Caller) -> str:
    html = templates.get_template("console/_sms.html").render(item=item, me=caller)
    data = json.dumps({"html": html}, ensure_ascii=False)
    return f"event: sms\nid: {item.id}\ndata: {data}\n\n"


async def _msisdn(request: Request, caller: Caller, number: int | None) -> str | None:
    if number is None:
        return None
    async with runtime_of(request).db.session() as session:
        found = await scope.number(session, caller, number)
    return found.msisdn
