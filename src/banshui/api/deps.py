"""What route handlers share: the runtime and the caller's tenant."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, cast

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from banshui.accounts.models import Tenant
from banshui.accounts.tenants import tenant_of_key
from banshui.api.guessing import count_wrong_key, refuse, turned_away_in
from banshui.core.addresses import client_of
from banshui.core.errors import Unauthorized
from banshui.metrics import count_refusal
from banshui.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


async def current_tenant(request: Request) -> Tenant:
    runtime = runtime_of(request)
    client = client_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    now = runtime.clock.now()

    def look(session: Session) -> tuple[timedelta | None, Tenant | None]:
        # Every API request asks both: one trip, the client's window first.
        wait = turned_away_in(session, client, now)
        if wait is not None or not key:
            return wait, None
        return None, tenant_of_key(session, key)

    wait, tenant = await runtime.db.run_read(look)
    if wait is not None:
        refuse("api", wait)
    if tenant is not None:
        return tenant

    await count_wrong_key(runtime, client, "api")
    count_refusal("api", "bad_key")
    if not key:
        raise Unauthorized("send the tenant API key as 'Authorization: Bearer <key>'")
    raise Unauthorized("the API key is not valid")


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]
# Row ids are 32-bit on PostgreSQL: a larger one names no row, and must not reach
# the database as a number it cannot hold.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
