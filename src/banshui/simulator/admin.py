"""The admin API for tests and the demo: set the bureau up, watch it, move its clock.

Answers are plain JSON; a refused request is a 4xx with `{"detail": sentence}`.
"""

import asyncio
from collections import Counter
from typing import Annotated, Self

from fastapi import APIRouter, Depends, Path
from pydantic import AnyHttpUrl, AwareDatetime, Field, model_validator

from banshui.simulator import face_checks, login, sessions
from banshui.simulator.admin_auth import admin_allowed
from banshui.simulator.answers import BureauDep, Reply
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import bureau_day
from banshui.simulator.errors import BureauError
from banshui.simulator.identities import IDENTITIES
from banshui.simulator.inputs import (
    IdentityCode,
    IdNumber,
    Mobile,
    PathToken,
    Region,
    Strict,
    TaxId,
)
from banshui.simulator.regions import REGIONS, region_name
from banshui.simulator.state import (
    Delivery,
    FaceCheck,
    GatewayKind,
    LoginMode,
    Person,
    Session,
    Sms,
)

router = APIRouter(prefix="/admin", dependencies=[Depends(admin_allowed)])


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
    face_check_on_issue: bool = False


class NewPhone(Strict):
    person_id: str = Field(max_length=16)
    phone: Mobile
    default: bool = False


class DeliveryConfig(Strict):
    url: AnyHttpUrl
    kind: GatewayKind = "smsforwarder"
    secret: str | None = Field(default=None, max_length=256)
    slot: int = Field(default=1, ge=1, le=2)
    device_mark: str = Field(default="banshui-sim", max_length=64)
    carrier_name: str = Field(default="中国移动", max_length=16)
    key: str | None = Field(default=None, min_length=1, max_length=128)
    device_id: str | None = Field(default=None, min_length=1, max_length=64)
    webhook_id: str | None = Field(default=None, min_length=1, max_length=64)
    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-f]{32}$")
    public_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _signable(self) -> Self:
        # Only SmsForwarder may post unsigned; the others always sign.
        if self.kind != "smsforwarder" and not self.secret:
            raise ValueError(f"a {self.kind} delivery needs a secret to sign with")

        if self.kind == "generic" and self.key is None:
            raise ValueError("a generic delivery needs the key its requests name")

        return self


class RegionLogin(Strict):
    login: LoginMode


class RunConfig(Strict):
    session_idle_seconds: int | None = Field(default=None, ge=1, le=30 * 86400)
    flow_seconds: int | None = Field(default=None, ge=1, le=86400)


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
        body.person_id,
        body.tax_id,
        body.identity_code,
        body.confirmed,
        body.face_check_on_issue,
    )
    return {
        "person_id": relation.person_id,
        "tax_id": relation.tax_id,
        "identity_code": relation.identity_code,
        "identity_name": IDENTITIES[relation.identity_code],
        "confirmed": relation.confirmed,
        "face_check_on_issue": relation.face_check_on_issue,
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


@router.get("/persons/{person_ref}")
async def person(
    person_ref: Annotated[str, Path(max_length=32)], bureau: BureauDep
) -> Reply:
    """A person by person id or ID number, with their phones (to check R1, R15)."""
    found = bureau.state.persons.get(person_ref)
    if found is None:
        found = bureau.state.person_by_id_number(person_ref)

    return _person(found)


@router.put("/deliveries/{phone}")
async def set_delivery(phone: Mobile, body: DeliveryConfig, bureau: BureauDep) -> Reply:
    delivery = Delivery(
        url=str(body.url),
        kind=body.kind,
        secret=body.secret,
        slot=body.slot,
        device_mark=body.device_mark,
        carrier_name=body.carrier_name,
        key=body.key,
        device_id=body.device_id,
        webhook_id=body.webhook_id,
        account_sid=body.account_sid,
        public_url=str(body.public_url) if body.public_url is not None else None,
    )
    bureau.state.deliveries[phone] = delivery
    return {"phone": phone, "url": delivery.url, "kind": delivery.kind}


@router.delete("/deliveries/{phone}")
async def remove_delivery(phone: Mobile, bureau: BureauDep) -> Reply:
    removed = bureau.state.deliveries.pop(phone, None)
    return {"phone": phone, "removed": removed is not None}


@router.post("/manual-logins")
async def manual_logins(body: ManualLogins, bureau: BureauDep) -> Reply:
    logins, sent, stopped = _log_in_by_hand(bureau, body)

    # Answer only once the carrier is done with them, delivered or failed.
    tasks = [task for sms in sent if (task := bureau.send(sms)) is not None]
    if tasks:
        await asyncio.wait(tasks)

    return {"sms_sent": len(sent), "logins": logins, "stopped": stopped}


def _log_in_by_hand(
    bureau: Bureau, body: ManualLogins
) -> tuple[int, list[Sms], Reply | None]:
    """Log in `count` times: how often, the SMS it cost, the refusal that stopped it.

    A region without the SMS step (R12) lets the person in without any SMS.
    """
    sent: list[Sms] = []
    for done in range(body.count):
        try:
            sms = login.log_in_by_hand(bureau, body.phone, body.tax_id)
        except BureauError as refusal:
            return done, sent, {"code": refusal.code, "message": refusal.message}

        if sms is not None:
            sent.append(sms)

    return body.count, sent, None


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


@router.put("/regions/{region}")
async def set_region_login(
    region: Region, body: RegionLogin, bureau: BureauDep
) -> Reply:
    """How the region's login goes on after the password (R12)."""
    bureau.state.region_logins[region] = body.login
    return _region(bureau, region)


@router.get("/regions")
async def regions(bureau: BureauDep) -> Reply:
    return {"regions": [_region(bureau, region) for region in REGIONS]}


@router.get("/face-checks")
async def list_face_checks(bureau: BureauDep) -> Reply:
    checks = bureau.state.face_checks.values()
    return {"face_checks": [_face_check(check) for check in checks]}


@router.post("/face-checks/{face_check_id}/approve")
async def approve_face_check(face_check_id: PathToken, bureau: BureauDep) -> Reply:
    """The person scanned the QR code with 国家网络身份认证 and passed (R14, R15)."""
    return _face_check(face_checks.approve(bureau, face_check_id))


@router.get("/config")
async def config(bureau: BureauDep) -> Reply:
    return _config(bureau)


@router.put("/config")
async def configure(body: RunConfig, bureau: BureauDep) -> Reply:
    """Settings for this run; a reset brings back the app's own."""
    changes = body.model_dump(exclude_none=True)
    bureau.configure(**changes)
    return _config(bureau)


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
        "portal": counts["portal"],
        "total": counts.total(),
        "left": max(0, bureau.config.daily_code_limit - codes_sent),
    }


def _config(bureau: Bureau) -> Reply:
    return {
        "session_idle_seconds": bureau.config.session_idle_seconds,
        "flow_seconds": bureau.config.flow_seconds,
    }


def _region(bureau: Bureau, region: str) -> Reply:
    login_mode = bureau.state.login_mode(region)
    return {"region": region, "region_name": region_name(region), "login": login_mode}


def _person(person: Person) -> Reply:
    phones = [
        {"phone": phone, "default": phone == person.default_phone}
        for phone in person.phones
    ]
    return {
        "person_id": person.person_id,
        "name": person.name,
        "id_number": person.id_number,
        "phones": phones,
        "default_phone": person.default_phone,
    }


def _face_check(check: FaceCheck) -> Reply:
    adding = check.purpose == "add_phone"
    return {
        "face_check_id": check.face_check_id,
        "purpose": check.purpose,
        "person_id": check.person_id,
        "status": "approved" if check.approved else "pending",
        "request_id": check.subject if adding else None,
        "flow_id": None if adding else check.subject,
        "created_at": check.created_at.isoformat(),
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
