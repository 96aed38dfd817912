"""Login requests for business systems: ask, follow, take the session, release."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from banshui.api.bodies import Body
from banshui.api.deps import CurrentTenant, runtime_of
from banshui.core.addresses import client_of
from banshui.login.engine import LoginEngine
from banshui.login.requests import create_login, events_of, get_login, view
from banshui.login.status import FINAL

router = APIRouter(prefix="/api/v1/logins", tags=["logins"])

TaxId = Annotated[
    str, Field(min_length=15, max_length=20, examples=["91440300MA5F000019"])
]


class LoginAsk(Body):
    tax_id: TaxId
    business: Literal["receive", "issue"]
    account_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class TypedCode(Body):
    """A code a person read off their phone, for a login waiting for it."""

    code: str = Field(max_length=16, examples=["418207"])


class LoginView(BaseModel):
    id: str
    status: str
    reason: str | None
    # While waiting_person: code, face_check, identity or slider.
    waiting_for: str | None = None
    deadline: str | None
    tax_id: str
    business: str
    account_id: int | None
    number: str | None
    sms_used: int
    switched: bool
    lease_expires_at: str | None
    created_at: str | None
    updated_at: str | None


class EventView(BaseModel):
    at: str
    status: str
    detail: str | None


class SessionView(BaseModel):
    base_url: str
    cookies: dict[str, str]
    identity_code: str
    tax_id: str
    enterprise_name: str
    region: str
    lease_expires_at: str | None


def engine_of(request: Request) -> LoginEngine:
    return cast(LoginEngine, runtime_of(request).extras["engine"])


@router.post("", status_code=202, response_model=LoginView)
async def ask_for_login(ask: LoginAsk, tenant: CurrentTenant, request: Request) -> Any:
    runtime = runtime_of(request)
    login = await create_login(
        runtime.db,
        runtime.clock,
        tenant_id=tenant.id,
        tax_id=ask.tax_id,
        business=ask.business,
        account_id=ask.account_id,
        deadline_seconds=runtime.settings.login_deadline_seconds,
    )
    engine_of(request).submit(login.id)
    return view(login)


@router.get("/{login_id}", response_model=LoginView)
async def read_login(login_id: str, tenant: CurrentTenant, request: Request) -> Any:
    return view(await get_login(runtime_of(request).db, login_id, tenant.id))


@router.get("/{login_id}/timeline", response_model=list[EventView])
async def read_timeline(login_id: str, tenant: CurrentTenant, request: Request) -> Any:
    db = runtime_of(request).db
    await get_login(db, login_id, tenant.id)
    return [
        {"at": event.at.isoformat(), "status": event.status, "detail": event.detail}
        for event in await events_of(db, login_id)
    ]


@router.get(
    "/{login_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def follow_login(
    login_id: str, tenant: CurrentTenant, request: Request
) -> StreamingResponse:
    """Server-sent events: the login object after each status change."""
    db = runtime_of(request).db
    await get_login(db, login_id, tenant.id)
    feed = engine_of(request).feed

    async def stream() -> AsyncIterator[str]:
        async with feed.subscribe(login_id) as queue:
            # Read after subscribing, so no change falls between the two.
            current = view(await get_login(db, login_id, tenant.id))
            yield _event(current)
            while current["status"] not in FINAL:
                try:
                    current = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    # The process serving the login tells every other one of
                    # its changes; should a word be lost, the database has it.
                    latest = view(await get_login(db, login_id, tenant.id))
                    if latest["status"] == current["status"]:
                        yield ": keep-alive\n\n"
                        continue
                    current = latest
                yield _event(current)

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.get("/{login_id}/session", response_model=SessionView)
async def take_session(login_id: str, tenant: CurrentTenant, request: Request) -> Any:
    client = client_of(request)
    return await engine_of(request).session_for(
        login_id, tenant.id, actor=f"tenant:{tenant.id}@{client}"
    )


@router.post("/{login_id}/release", response_model=LoginView)
async def release_login(login_id: str, tenant: CurrentTenant, request: Request) -> Any:
    return view(await engine_of(request).release(login_id, tenant.id))


@router.post(
    "/{login_id}/code",
    response_model=LoginView,
    responses={409: {"description": "the login is not waiting for a typed code"}},
)
async def type_code(
    login_id: str, typed: TypedCode, tenant: CurrentTenant, request: Request
) -> Any:
    """A code a person typed: for an account whose code goes to their phone."""
    client = client_of(request)
    login = await engine_of(request).type_code(
        login_id, tenant.id, typed.code, actor=f"tenant:{tenant.id}@{client}"
    )
    return view(login)


def _event(login: dict[str, Any]) -> str:
    return f"event: login\ndata: {json.dumps(login, ensure_ascii=False)}\n\n"
