"""Gateways registered by a number-side customer, for its own numbers only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from banshui.api.bodies import Body, parse_body
from banshui.api.deps import runtime_of
from banshui.numbers.models import Customer
from banshui.provider.auth import signed_customer
from banshui.provider.claims import reachable_number
from banshui.sms.models import Source
from banshui.sms.sources import KINDS, add_source, webhook_url

router = APIRouter(prefix="/api/v1/provider/sources", tags=["provider"])


class NewSource(Body):
    kind: str = Field(description=f"one of {', '.join(KINDS)}")
    name: str = Field(min_length=1, max_length=63)
    secret: str = Field(min_length=16, max_length=256)
    number: str | None = Field(default=None, max_length=20)
    sim_slots: dict[str, str] = Field(default_factory=dict, max_length=4)
    public_url: str | None = Field(default=None, max_length=500)


class SourceView(BaseModel):
    id: int
    kind: str
    name: str
    number: str | None
    sim_slots: dict[str, str]
    webhook_url: str


async def _signed(request: Request) -> Customer:
    return await signed_customer(runtime_of(request), request)


Signed = Annotated[Customer, Depends(_signed)]


@router.post(
    "",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": NewSource.model_json_schema()}},
        }
    },
)
async def register_source(request: Request, customer: Signed) -> SourceView:
    """Register a gateway for numbers the customer holds; its secret is sealed."""
    runtime = runtime_of(request)
    asked = parse_body(NewSource, await request.body())
    for number in [asked.number, *asked.sim_slots.values()]:
        if number is not None:
            await reachable_number(runtime, customer, number)

    source = await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind=asked.kind,
        name=asked.name,
        secret=asked.secret,
        number=asked.number,
        sim_slots=asked.sim_slots,
        public_url=asked.public_url,
        customer_id=customer.id,
        actor=f"customer:{customer.id}",
    )
    return _view(source, runtime.settings.public_url)


@router.get("")
async def list_sources(request: Request, customer: Signed) -> list[SourceView]:
    """The customer's own sources in use (never their secrets)."""
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(Source)
            .where(Source.customer_id == customer.id, Source.removed_at.is_(None))
            .order_by(Source.id)
        )
        sources = list(rows)
    return [_view(source, runtime.settings.public_url) for source in sources]


def _view(source: Source, public_url: str) -> SourceView:
    return SourceView(
        id=source.id,
        kind=source.kind,
        name=source.name,
        number=source.number,
        sim_slots={key: str(value) for key, value in source.sim_slots.items()},
        webhook_url=source.public_url
        or webhook_url(public_url, source.kind, source.name),
    )
