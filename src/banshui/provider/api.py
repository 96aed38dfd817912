"""The provider API routes (docs/provider-api.md): signed claims and listings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from banshui.api.bodies import Body, parse_body
from banshui.api.deps import runtime_of
from banshui.api.hangups import watching
from banshui.core.errors import NotFound
from banshui.numbers.models import Customer
from banshui.provider.auth import signed_customer
from banshui.provider.claims import claim_code, reachable_number, recent_sms

router = APIRouter(prefix="/api/v1/provider", tags=["provider"])

MAX_WAIT_SECONDS = 60
# Any ``after`` a client can mean lies in here; the claim looks back a day at
# most anyway. Outside, date arithmetic on it would overflow.
EARLIEST_AFTER = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AFTER = datetime(2100, 1, 1, tzinfo=UTC)


class NoCodeYet(NotFound):
    code = "no_code"


class ClaimBody(Body):
    after: AwareDatetime
    wait_seconds: float = Field(default=0, ge=0, le=MAX_WAIT_SECONDS)

    @field_validator("after")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        try:
            moment = value.astimezone(UTC)
        except OverflowError:
            moment = None  # the first or last day a datetime can hold
        if moment is None or not EARLIEST_AFTER <= moment < LATEST_AFTER:
            raise ValueError("must be a time between 1970 and 2100")
        return moment


class ClaimAnswer(BaseModel):
    code: str
    sms_id: int
    received_at: datetime


class SmsItem(BaseModel):
    id: int
    sender: str
    text: str
    code: str | None
    kind: str
    received_at: datetime
    claimed: bool


class SmsListing(BaseModel):
    number: str
    sms: list[SmsItem]


async def _signed(request: Request) -> Customer:
    return await signed_customer(runtime_of(request), request)


Signed = Annotated[Customer, Depends(_signed)]

_CLAIM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ClaimBody.model_json_schema()}},
    }
}


@router.post(
    "/numbers/{number}/claims",
    openapi_extra=_CLAIM_BODY,
    responses={404: {"description": "unknown number, or no code yet (no_code)"}},
)
async def claim(number: str, request: Request, customer: Signed) -> ClaimAnswer:
    """Claim the first unclaimed bureau code since ``after``, waiting if asked."""
    runtime = runtime_of(request)
    # The body is read only after the signature held: strangers learn nothing.
    asked = parse_body(ClaimBody, await request.body())
    msisdn = await reachable_number(runtime, customer, number)

    # A client that hangs up (its own time-out, a network blip) takes no code.
    async with watching(request) as gone:
        claimed = await claim_code(
            runtime, customer, msisdn, asked.after, asked.wait_seconds, gone
        )
    if claimed is None:
        raise NoCodeYet(f"no unclaimed code has reached {msisdn} since 'after'")
    return ClaimAnswer(
        code=claimed.code, sms_id=claimed.sms_id, received_at=claimed.received_at
    )


@router.get("/numbers/{number}/sms")
async def list_sms(
    number: str,
    request: Request,
    customer: Signed,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SmsListing:
    """The number's latest SMS, newest first, codes included (for people)."""
    runtime = runtime_of(request)
    msisdn = await reachable_number(runtime, customer, number)

    listed = await recent_sms(runtime, customer, msisdn, limit)
    items = [
        SmsItem(
            id=sms.id,
            sender=sms.sender,
            text=sms.text,
            code=sms.code,
            kind=sms.kind,
            received_at=sms.received_at,
            claimed=sms.claimed_by is not None,
        )
        for sms in listed
    ]
    return SmsListing(number=msisdn, sms=items)
