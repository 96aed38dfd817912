"""The forwarding queue as operators follow it: ``GET /api/v1/forwards``.

A tenant's key sees the forwards of the tenant's numbers only (its persons'
numbers and the sub-numbers whose binding is for it, not every number bound
by a tax id the tenant also has), and of the SMS that came while the number was
the tenant's. It shows status and errors, never an SMS's text or code, and real
phones only masked.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from banshui.accounts.tenants import numbers_of, sms_seen_by
from banshui.api.deps import CurrentTenant, runtime_of
from banshui.forwarding.views import list_forwards

router = APIRouter(prefix="/api/v1/forwards", tags=["forwarding"])


class ForwardOut(BaseModel):
    id: int
    sms_id: int
    number: str
    sender: str
    channel: str
    kind: str
    status: str
    attempts: int
    due_at: str
    sent_at: str | None
    destination: str | None
    last_error: str | None
    created_at: str


class ForwardList(BaseModel):
    forwards: list[ForwardOut]


@router.get("", response_model=ForwardList)
async def forwards(
    tenant: CurrentTenant,
    request: Request,
    status: Annotated[
        str | None, Query(description="due, sending, sent or failed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    found = await list_forwards(
        runtime_of(request).db,
        status,
        limit,
        numbers=numbers_of(tenant.id),
        sms=sms_seen_by(tenant.id),
    )
    return {"forwards": [view.as_json() for view in found]}
