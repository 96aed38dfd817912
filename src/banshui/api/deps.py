"""What route handlers share: the runtime and the caller's tenant."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Path, Request

from banshui.accounts.models import Tenant
from banshui.accounts.tenants import tenant_for_key
from banshui.api.guessing import count_wrong_key, turn_away_guessers
from banshui.core.addresses import client_of
from banshui.core.errors import Unauthorized
from banshui.metrics import count_refusal
from banshui.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


async def current_tenant(request: Request) -> Tenant:
    runtime = runtime_of(request)
    client = client_of(request)
    await turn_away_guessers(runtime, client, "api")

    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized(
                "send the tenant API key as 'Authorization: Bearer <key>'"
            )
        return await tenant_for_key(runtime.db, key.strip())
    except Unauthorized:
        await count_wrong_key(runtime, client, "api")
        count_refusal("api", "bad_key")
        raise


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]
# Row ids are 32-bit on PostgreSQL: a larger one names no row, and must not reach
# the database as a number it cannot hold.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
