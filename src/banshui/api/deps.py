"""What route handlers share: the runtime and the caller's tenant."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from banshui.accounts.models import Tenant
from banshui.accounts.tenants import tenant_for_key
from banshui.core.errors import Unauthorized
from banshui.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


async def current_tenant(request: Request) -> Tenant:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send the tenant API key as 'Authorization: Bearer <key>'")
    return await tenant_for_key(runtime_of(request).db, key.strip())


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]
