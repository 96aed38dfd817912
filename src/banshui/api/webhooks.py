"""A tenant's webhooks: subscribe to event kinds, follow the deliveries.

A delivery is a POST of ``{"id", "kind", "at", "data"}`` signed with
``banshui.signing`` (the key is the webhook's id); the secret is shown once,
when the webhook is made. See docs/api.md for kinds, signing and retries.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, SecretStr

from banshui.api.bodies import Body
from banshui.api.deps import CurrentTenant, RowId, runtime_of
from banshui.api.registry import actor_of
from banshui.sync.models import Subscription
from banshui.sync.queue import deliveries_of, retry_delivery
from banshui.sync.subscriptions import (
    MIN_SECRET,
    subscribe,
    subscription_of,
    subscriptions_of,
    unsubscribe,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class WebhookIn(Body):
    url: str = Field(min_length=1, max_length=1000)
    events: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        min_length=1, max_length=20, examples=[["account.*", "session.dropped"]]
    )
    # Generated when not given; either way it is shown once, in the answer.
    secret: SecretStr | None = Field(
        default=None, min_length=MIN_SECRET, max_length=200
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: str


class NewWebhookOut(WebhookOut):
    secret: str


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    kind: str
    status: str
    attempts: int
    due_at: str
    delivered_at: str | None
    last_status: int | None
    last_error: str | None
    created_at: str


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


@router.post("", status_code=201, response_model=NewWebhookOut)
async def add_webhook(body: WebhookIn, tenant: CurrentTenant, request: Request) -> Any:
    runtime = runtime_of(request)
    made = await subscribe(
        runtime.db,
        runtime.vault,
        runtime.clock,
        tenant_id=tenant.id,
        url=body.url,
        events=body.events,
        secret=body.secret.get_secret_value() if body.secret else None,
        actor=actor_of(tenant.id, request),
    )
    return {**_webhook(made.subscription), "secret": made.secret}


@router.get("", response_model=WebhookList)
async def webhooks(tenant: CurrentTenant, request: Request) -> Any:
    found = await subscriptions_of(runtime_of(request).db, tenant.id)
    return {"webhooks": [_webhook(subscription) for subscription in found]}


@router.get("/{webhook_id}", response_model=WebhookOut)
async def webhook(webhook_id: str, tenant: CurrentTenant, request: Request) -> Any:
    return _webhook(
        await subscription_of(runtime_of(request).db, tenant.id, webhook_id)
    )


@router.delete("/{webhook_id}", status_code=204)
async def remove_webhook(
    webhook_id: str, tenant: CurrentTenant, request: Request
) -> Response:
    runtime = runtime_of(request)
    await unsubscribe(
        runtime.db, runtime.clock, tenant.id, webhook_id, actor_of(tenant.id, request)
    )
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList)
async def deliveries(
    webhook_id: str,
    tenant: CurrentTenant,
    request: Request,
    status: Annotated[
        str | None, Query(description="due, sending, delivered or failed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The newest first, with the receiver's last answer and error."""
    db = runtime_of(request).db
    await subscription_of(db, tenant.id, webhook_id)
    found = await deliveries_of(db, webhook_id, status, limit)
    return {"deliveries": [view.as_json() for view in found]}


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", response_model=DeliveryOut)
async def retry(
    webhook_id: str, delivery_id: RowId, tenant: CurrentTenant, request: Request
) -> Any:
    """A failed delivery is tried again now, with a fresh round of retries."""
    runtime = runtime_of(request)
    await subscription_of(runtime.db, tenant.id, webhook_id)
    view = await retry_delivery(runtime.db, runtime.clock, webhook_id, delivery_id)
    return view.as_json()


def _webhook(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": subscription.events,
        "created_at": subscription.created_at.isoformat(),
    }
