"""The natural-person portal's JSON API (自然人业务): adding a phone (R15).

Answers are shaped as the login site's: `{"code": 1000, "data"}` or a refusal.
"""

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from banshui.simulator import portal
from banshui.simulator.answers import BureauDep, Reply, ok
from banshui.simulator.face_api import qr_url
from banshui.simulator.inputs import Mobile, PathToken, Region
from banshui.simulator.phones import mask

router = APIRouter(prefix="/api/portal")


class PhoneToAdd(BaseModel):
    id_number: str = Field(max_length=32)
    password: str = Field(max_length=128)
    phone: Mobile
    default: bool = False
    region: Region


class PortalCode(BaseModel):
    code: str = Field(max_length=16)


@router.post("/phones")
async def add_phone(body: PhoneToAdd, bureau: BureauDep) -> Reply:
    """添加手机号 → 其他手机号: a code goes to the phone being added."""
    request, sms = portal.request_phone(
        bureau, body.id_number, body.password, body.phone, body.default, body.region
    )
    bureau.send(sms)
    return ok(
        {
            "request_id": request.request_id,
            "next": "code",
            "phone_masked": mask(request.phone),
            "valid_seconds": bureau.config.code_valid_seconds,
        }
    )


@router.post("/phones/{request_id}/code")
async def submit_code(
    request_id: PathToken, body: PortalCode, bureau: BureauDep, request: Request
) -> Reply:
    check = portal.submit_code(bureau, request_id, body.code)
    return ok(
        {
            "next": "face_check",
            "face_check_id": check.face_check_id,
            "qr_url": qr_url(request, check.face_check_id),
        }
    )


@router.get("/phones/{request_id}")
async def phone_request(request_id: PathToken, bureau: BureauDep) -> Reply:
    request = portal.phone_request(bureau, request_id)
    return ok(
        {
            "request_id": request.request_id,
            "status": portal.status(request),
            "phone_masked": mask(request.phone),
            "default": request.default,
            "face_check_id": request.face_check_id,
        }
    )
