"""Login requests for business systems: ask, follow, take the session, release."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from banshui.accounts.tenants import key_still_held
from banshui.api.bodies import Body
from banshui.api.deps import CurrentTenant, runtime_of
from banshui.core.addresses import client_of
from banshui.core.streams import HeldStream
from banshui.login.engine import LoginEngine
from banshui.login.listing import (
    decode_cursor,
    encode_cursor,
    list_logins,
    login_filter,
)
from banshui.login.requests import create_login, events_of, get_login, view
from banshui.login.status import FINAL, Status

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


# How often a quiet event stream says it is alive (and checks its key).
KEEP_ALIVE_SECONDS = 15.0
_UNENCODED_PLUS = re.compile(r" (\d\d:?\d\d)$")
_NOT_A_MOMENT = "must be ISO 8601 with its offset, as in 2026-03-02T09:00:00+08:00"


def _iso_moment(value: object) -> datetime:
    # pydantic alone would take 1700000000 for a time too, and say less.
    if not isinstance(value, str):
        raise PydanticCustomError("iso_moment", _NOT_A_MOMENT)
    # A "+" left unencoded in a query arrives as a space: 09:00:00 08:00.
    text = _UNENCODED_PLUS.sub(r"+\1", value)
    try:
        moment: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PydanticCustomError("iso_moment", _NOT_A_MOMENT)
    return moment


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_moment)]


class LoginQuery(BaseModel):
    """The filters and page of ``GET /api/v1/logins``; an unknown one is a 422."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(
        default=[], description="one or more statuses: repeat the parameter"
    )
    tax_id: TaxId | None = None
    business: Literal["receive", "issue"] | None = None
    created_after: Moment | None = Field(
        default=None, description="created at or after this time (ISO 8601, offset)"
    )
    created_before: Moment | None = Field(
        default=None, description="created before this time (ISO 8601, offset)"
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, max_length=200, description="next_cursor of the page before"
    )


class LoginList(BaseModel):
    logins: list[LoginView]
    # None on the last page.
    next_cursor: str | None


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


_LOCATION = {
    "description": "the login's own URL, to read and follow it",
    "schema": {"type": "string", "example": "/api/v1/logins/3f2e9d0c…"},
}


def engine_of(request: Request) -> LoginEngine:
    return cast(LoginEngine, runtime_of(request).extras["engine"])


@router.get("", response_model=LoginList)
async def list_tenant_logins(
    query: Annotated[LoginQuery, Query()], tenant: CurrentTenant, request: Request
) -> Any:
    """The tenant's logins, newest first, a page at a time."""
    wanted = login_filter(
        query.status,
        query.tax_id,
        query.business,
        query.created_after,
        query.created_before,
    )
    after = decode_cursor(query.cursor) if query.cursor is not None else None
    page = await list_logins(
        runtime_of(request).db, tenant.id, wanted, query.limit, after
    )
    return {
        "logins": [view(login) for login in page.logins],
        "next_cursor": encode_cursor(page.next) if page.next else None,
    }


@router.post(
    "",
    status_code=202,
    response_model=LoginView,
    responses={202: {"headers": {"Location": _LOCATION}}},
)
async def ask_for_login(
    ask: LoginAsk, tenant: CurrentTenant, request: Request, response: Response
) -> Any:
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
    response.headers["Location"] = f"{router.prefix}/{login.id}"
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
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"description": "the tenant has too many event streams open"},
    },
)
async def follow_login(
    login_id: str, tenant: CurrentTenant, request: Request
) -> StreamingResponse:
    """Server-sent events: the login object after each status change."""
    runtime = runtime_of(request)
    db = runtime.db
    await get_login(db, login_id, tenant.id)
    feed = engine_of(request).feed

    key_hash = tenant.api_key_hash

    async def stream() -> AsyncIterator[str]:
        async with feed.subscribe(login_id) as queue:
            # Read after subscribing, so no change falls between the two.
            current = view(await get_login(db, login_id, tenant.id))
            yield _event(current)
            while current["status"] not in FINAL:
                try:
                    current = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    # A stream may outlive its key (tenant rotate-key): it ends
                    # within a keep-alive of the key's replacement.
                    if not await key_still_held(db, tenant.id, key_hash):
                        return
                    # The process serving the login tells every other one of
                    # its changes; should a word be lost, the database has it.
                    latest = view(await get_login(db, login_id, tenant.id))
                    if latest["status"] == current["status"]:
                        yield ": keep-alive\n\n"
                        continue
                    current = latest
                yield _event(current)

    # Taken last: nothing may fail between taking the place and handing it on.
    place = runtime.streams.take(f"tenant:{tenant.id}")
    return HeldStream(stream(), place, headers={})


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
