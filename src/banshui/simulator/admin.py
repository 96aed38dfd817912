"""The admin API for tests and the demo: set the bureau up, watch it, move its clock.

Answers are plain JSON; a refused request is a 4xx with `{"detail": sentence}`.
"""

import asyncio
from collections import Counter
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from banshui.simulator import login, sessions
from banshui.simulator.answers import BureauDep, Reply
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import bureau_day
from banshui.simulator.errors import BureauError
from banshui.simulator.identities import IDENTITIES
from banshui.simulator.phones import normalise_mobile
from banshui.simulator.regions import REGIONS, region_name
from banshui.simulator.state import Delivery, Session, Sms

router = APIRouter(prefix="/admin")


def _known_region(region: str) -> str:
    if region not in REGIONS:
        raise ValueError(f"{region!r} is not a region the simulator knows")

    return region


def _known_identity(identity_code: str) -> str:
    if identity_code not in IDENTITIES:
        raise ValueError(f"{identity_code!r} is not an identity code (R7)")

    return identity_code


Mobile = Annotated[str, AfterValidator(normalise_mobile)]
Region = Annotated[str, AfterValidator(_known_region)]
IdentityCode = Annotated[str, AfterValidator(_known_identity)]
IdNumber = Annotated[str, Field(pattern=r"^\d{17}[\dXx]$")]
TaxId = Annotated[str, Field(pattern=r"^[0-9A-Z]{15,20}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResetRequest(Strict):
    seed: int | None = None


class ClockChange(Strict):
    pinned: AwareDatetime | None = None
    advance_seconds: float | None = Field(default=None, ge=0, le=400 * 86400)


class NewPerson(Strict):
    name: str = Field(min_length=1, max_length=64)
    id_number: IdNumber
    password: str = Field(min_length=1, max_length=128)


class NewEnterprise(Strict):
    tax_id: TaxId
    name: str = Field(min_length=1, max_length=128)
    region: Region


class NewRelation(Strict):
    person_id: str = Field(max_length=16)
    tax_id: TaxId
    identity_code: IdentityCode
    confirmed: bool = True


class NewPhone(Strict):
    person_id: str = Field(max_length=16)
    phone: Mobile
    default: bool = False


class DeliveryConfig(Strict):
    url: AnyHttpUrl
    kind: Literal["smsforwarder"] = "smsforwarder"
    secret: str | None = Field(default=None, max_length=256)
    slot: int = Field(default=1, ge=1, le=2)
    device_mark: str = Field(default="banshui-sim", max_length=64)
    carrier_name: str = Field(default="中国移动", max_length=16)


class ManualLogins(Strict):
    phone: Mobile
    tax_id: TaxId
    count: int = Field(default=1, ge=1, le=100)


class SessionDrop(Strict):
    id_number: IdNumber
    region: Region


class Lease(Strict):
    session_token: str = Field(max_length=64)
    held: bool


@router.post("/reset")
async def reset(bureau: BureauDep, body: ResetRequest | None = None) -> Reply:
    asked = body.seed if body is not None else None
    seed = asked if asked is not None else bureau.config.seed
    await bureau.reset(seed)
    return {"seed": seed}


@router.get("/clock")
async def clock(bureau: BureauDep) -> Reply:
    return _clock(bureau)


@router.put("/clock")
async def move_clock(body: ClockChange, bureau: BureauDep) -> Reply:
    if "pinned" in body.model_fields_set:
        if body.pinned is None:
            bureau.clock.unpin()
        else:
            bureau.clock.pin(body.pinned)

    if body.advance_seconds is not None:
        bureau.clock.advance(body.advance_seconds)

    return _clock(bureau)


@router.post("/persons")
async def add_person(body: NewPerson, bureau: BureauDep) -> Reply:
    person = bureau.state.add_person(body.name, body.id_number, body.password)
    return {"person_id": person.person_id}


@router.post("/enterprises")
async def add_enterprise(body: NewEnterprise, bureau: BureauDep) -> Reply:
    enterprise = bureau.state.add_enterprise(body.tax_id, body.name, body.region)
    return {
        "tax_id": enterprise.tax_id,
        "name": enterprise.name,
        "region": enterprise.region,
        "region_name": region_name(enterprise.region),
    }


@router.post("/relations")
async def set_relation(body: NewRelation, bureau: BureauDep) -> Reply:
    relation = bureau.state.set_relation(
        body.person_id, body.tax_id, body.identity_code, body.confirmed
    )
    return {
        "person_id": relation.person_id,
        "tax_id": relation.tax_id,
        "identity_code": relation.identity_code,
        "identity_name": IDENTITIES[relation.identity_code],
        "confirmed": relation.confirmed,
    }


@router.post("/phones")
async def add_phone(body: NewPhone, bureau: BureauDep) -> Reply:
    moved_from = bureau.state.add_phone(body.person_id, body.phone, body.default)
    person = bureau.state.persons[body.person_id]
    return {
        "person_id": person.person_id,
        "phone": body.phone,
        "default": person.default_phone == body.phone,
        "moved_from": moved_from,
    }


@router.put("/deliveries/{phone}")
async def set_delivery(phone: Mobile, body: DeliveryConfig, bureau: BureauDep) -> Reply:
    delivery = Delivery(
        url=str(body.url),
        kind=body.kind,
        secret=body.secret,
        slot=body.slot,
        device_mark=body.device_mark,
        carrier_name=body.carrier_name,
    )
    bureau.state.deliveries[phone] = delivery
    return {"phone": phone, "url": delivery.url, "kind": delivery.kind}


@router.delete("/deliveries/{phone}")
async def remove_delivery(phone: Mobile, bureau: BureauDep) -> Reply:
    removed = bureau.state.deliveries.pop(phone, None)
    return {"phone": phone, "removed": removed is not None}


@router.post("/manual-logins")
async def manual_logins(body: ManualLogins, bureau: BureauDep) -> Reply:
    sent, stopped = _log_in_by_hand(bureau, body)

    # Answer only once the carrier is done with them, delivered or failed.
    tasks = [task for sms in sent if (task := bureau.send(sms)) is not None]
    if tasks:
        await asyncio.wait(tasks)

    return {"sms_sent": len(sent), "stopped": stopped}


def _log_in_by_hand(
    bureau: Bureau, body: ManualLogins
) -> tuple[list[Sms], Reply | None]:
    """Log in `count` times: the SMS it cost, and the refusal that ended it early."""
    sent: list[Sms] = []
    for _ in range(body.count):
        try:
            sent.append(login.log_in_by_hand(bureau, body.phone, body.tax_id))
        except BureauError as refusal:
            return sent, {"code": refusal.code, "message": refusal.message}

    return sent, None


@router.post("/sessions/drop")
async def drop_session(body: SessionDrop, bureau: BureauDep) -> Reply:
    person = bureau.state.person_by_id_number(body.id_number)
    return {"dropped": sessions.drop(bureau, person.person_id, body.region)}


@router.get("/sessions")
async def list_sessions(bureau: BureauDep) -> Reply:
    listed = [_session(bureau, s) for s in bureau.state.sessions.values()]
    return {"sessions": listed}


@router.post("/leases")
async def set_lease(body: Lease, bureau: BureauDep) -> Reply:
    session = sessions.hold(bureau, body.session_token, body.held)
    return _session(bureau, session)


@router.get("/violations")
async def violations(bureau: BureauDep) -> Reply:
    counted = bureau.state.violations
    return {
        "lease_broken": counted.lease_broken,
        "code_reused": counted.code_reused,
        "over_quota_requests": counted.over_quota_requests,
        "total": counted.total,
    }


@router.get("/outbox")
async def outbox(bureau: BureauDep, phone: Mobile | None = None) -> Reply:
    listed = [sms for sms in bureau.state.outbox if phone in (None, sms.phone)]
    return {"sms": [_sms(sms) for sms in listed]}


@router.get("/stats")
async def stats(bureau: BureauDep) -> Reply:
    day = bureau_day(bureau.clock.now())
    by_phone: dict[str, Counter[str]] = {}
    for sms in bureau.state.sms_on(day):
        by_phone.setdefault(sms.phone, Counter())[sms.cause] += 1

    phones = {
        phone: _counts(bureau, counts, bureau.state.codes_sent[(phone, day)])
        for phone, counts in by_phone.items()
    }
    return {"day": day.isoformat(), "phones": phones}


@router.post("/carrier/drain")
async def drain_carrier(bureau: BureauDep) -> Reply:
    await bureau.carrier.drain()
    return {"pending": 0}


def _clock(bureau: Bureau) -> Reply:
    return {"now": bureau.clock.now().isoformat(), "pinned": bureau.clock.pinned}


def _counts(bureau: Bureau, counts: Counter[str], codes_sent: int) -> Reply:
    return {
        "banshui": counts["banshui"],
        "manual": counts["manual"],
        "total": counts.total(),
        "left": max(0, bureau.config.daily_code_limit - codes_sent),
    }


def _session(bureau: Bureau, session: Session) -> Reply:
    alive = sessions.is_live(bureau, session, bureau.clock.now())
    return {
        "session_token": session.token,
        "person_id": session.person_id,
        "region": session.region,
        "tax_id": session.tax_id,
        "identity_code": session.identity_code,
        "held": session.held,
        "alive": alive,
        "ended": session.ended or (None if alive else "idle"),
    }


def _sms(sms: Sms) -> Reply:
    return {
        "id": sms.sms_id,
        "phone": sms.phone,
        "sender": sms.sender,
        "text": sms.text,
        "sent_at": sms.sent_at.isoformat(),
        "cause": sms.cause,
        "delivery": sms.delivery,
        "delivered": sms.delivery == "delivered",
        "attempts": sms.attempts,
    }
