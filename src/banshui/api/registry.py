"""The registry for business systems: enterprises, persons, numbers, accounts.

Everything is scoped to the caller's tenant: another tenant's object answers
404 exactly as a missing one does. Passwords go in and never come out.
``GET /enterprises/{tax_id}/accounts`` is the listing ERPs pull (星瀚's 数电配置
更新); its changes are also pushed as ``account.*`` webhook events.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, SecretStr

from banshui.accounts.identity import mask_id_number
from banshui.accounts.models import Enterprise
from banshui.accounts.service import PersonRecord, Registry
from banshui.accounts.uscc import region_name
from banshui.api.bodies import Body
from banshui.api.deps import CurrentTenant, RowId, runtime_of
from banshui.core.addresses import client_of
from banshui.core.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["registry"])

TaxId = Annotated[
    str, Field(min_length=1, max_length=40, examples=["91440300MA5FA0010M"])
]
Mobile = Annotated[str, Field(min_length=1, max_length=20, examples=["19912340001"])]
Business = Literal["issue", "receive"]


class EnterpriseIn(Body):
    tax_id: TaxId
    name: str = Field(min_length=1, max_length=200)
    # Derived from the tax id (R13) unless given: two province digits or a
    # separate city's four.
    region: str | None = Field(default=None, min_length=2, max_length=4)


class EnterpriseOut(BaseModel):
    tax_id: str
    name: str
    region: str
    region_name: str
    region_overridden: bool
    created_at: str


class EnterpriseList(BaseModel):
    enterprises: list[EnterpriseOut]


class PersonIn(Body):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=20, examples=["44030519900101123X"])
    password: SecretStr = Field(min_length=1, max_length=200)


class PasswordIn(Body):
    password: SecretStr = Field(min_length=1, max_length=200)


class NumberIn(Body):
    number: Mobile
    # 默认手机号 at the bureau; the guide adds sub-numbers with 否.
    default_at_bureau: bool = False
    # Only for a number banshui does not know yet: false for a real phone.
    is_sub_number: bool = True


class NumberOut(BaseModel):
    number: str
    is_sub_number: bool
    default_at_bureau: bool


class AccountRef(BaseModel):
    id: int
    number: str


class PersonOut(BaseModel):
    id: int
    name: str
    id_number_masked: str
    numbers: list[NumberOut]
    accounts: list[AccountRef]


class PersonList(BaseModel):
    persons: list[PersonOut]


class AccountIn(Body):
    """The guide's 新增 form: 登录类型, 账户 (the number), 身份, 默认业务."""

    login_type: Literal["sub_number", "phone"]
    account: Mobile
    identity_code: str = Field(min_length=1, max_length=2, examples=["03"])
    default_business: Business
    is_default: bool = False
    # 号码由其他服务商托管（appKey/appSecret）: a sub-number hosted at another
    # provider, whose codes banshui claims there through the provider API.
    provider_url: str | None = Field(default=None, min_length=1, max_length=500)
    app_key: str | None = Field(default=None, min_length=1, max_length=64)
    app_secret: SecretStr | None = Field(default=None, min_length=1, max_length=200)


class AccountPatch(Body):
    default_business: Business | None = None
    is_default: bool | None = None


class WarningOut(BaseModel):
    code: str
    message: str


class EntryOut(BaseModel):
    id: int
    tax_id: str
    enterprise_name: str
    number: str
    login_type: str
    person_id: int
    issuer: str
    identity_code: str
    identity: str
    default_business: str
    default_business_name: str
    is_default: bool
    enterprises_served: int
    provider_url: str | None
    warnings: list[WarningOut]


class Listing(BaseModel):
    tax_id: str
    accounts: list[EntryOut]


class ServiceOut(BaseModel):
    tax_id: str
    name: str
    identity_code: str
    identity: str
    default_business: str
    default_business_name: str
    is_default: bool


class AccountOut(BaseModel):
    id: int
    number: str
    login_type: str
    person_id: int
    issuer: str
    provider_url: str | None
    enterprises: list[ServiceOut]
    warnings: list[WarningOut]


def registry_of(request: Request) -> Registry:
    runtime = runtime_of(request)
    return Registry(runtime.db, runtime.vault, runtime.clock)


def actor_of(tenant_id: int, request: Request) -> str:
    client = client_of(request)
    return f"tenant:{tenant_id}@{client}"


@router.post("/enterprises", status_code=201, response_model=EnterpriseOut)
async def add_enterprise(
    body: EnterpriseIn, tenant: CurrentTenant, request: Request
) -> Any:
    made = await registry_of(request).add_enterprise(
        tenant.id,
        body.tax_id,
        body.name,
        body.region,
        actor=actor_of(tenant.id, request),
    )
    return _enterprise(made)


@router.get("/enterprises", response_model=EnterpriseList)
async def enterprises(tenant: CurrentTenant, request: Request) -> Any:
    found = await registry_of(request).enterprises_of(tenant.id)
    return {"enterprises": [_enterprise(enterprise) for enterprise in found]}


@router.get("/enterprises/{tax_id}", response_model=EnterpriseOut)
async def enterprise(tax_id: str, tenant: CurrentTenant, request: Request) -> Any:
    return _enterprise(await registry_of(request).enterprise_of(tenant.id, tax_id))


@router.get("/enterprises/{tax_id}/accounts", response_model=Listing)
async def accounts_of_enterprise(
    tax_id: str, tenant: CurrentTenant, request: Request
) -> Any:
    """The listing ERPs pull: who logs in for the enterprise, and as whom."""
    registry = registry_of(request)
    found = await registry.enterprise_of(tenant.id, tax_id)
    entries = await registry.listing_of(tenant.id, found.tax_id)
    return {"tax_id": found.tax_id, "accounts": [e.as_json() for e in entries]}


@router.post("/enterprises/{tax_id}/accounts", status_code=201, response_model=EntryOut)
async def serve_enterprise(
    tax_id: str, body: AccountIn, tenant: CurrentTenant, request: Request
) -> Any:
    registry = registry_of(request)
    account = await registry.serve_enterprise(
        tenant.id,
        tax_id,
        login_type=body.login_type,
        msisdn=body.account,
        identity_code=body.identity_code,
        default_business=body.default_business,
        is_default=body.is_default,
        actor=actor_of(tenant.id, request),
        provider_url=body.provider_url,
        app_key=body.app_key,
        app_secret=body.app_secret.get_secret_value() if body.app_secret else None,
    )
    return await _entry(registry, tenant.id, tax_id, account.id)


@router.patch("/enterprises/{tax_id}/accounts/{account_id}", response_model=EntryOut)
async def change_service(
    tax_id: str,
    account_id: RowId,
    body: AccountPatch,
    tenant: CurrentTenant,
    request: Request,
) -> Any:
    """Set the enterprise's default account, or the account's default business."""
    registry = registry_of(request)
    await registry.change_service(
        tenant.id,
        tax_id,
        account_id,
        default_business=body.default_business,
        is_default=body.is_default,
        actor=actor_of(tenant.id, request),
    )
    return await _entry(registry, tenant.id, tax_id, account_id)


@router.delete("/enterprises/{tax_id}/accounts/{account_id}", status_code=204)
async def stop_serving(
    tax_id: str, account_id: RowId, tenant: CurrentTenant, request: Request
) -> Response:
    await registry_of(request).stop_serving(
        tenant.id, tax_id, account_id, actor_of(tenant.id, request)
    )
    return Response(status_code=204)


@router.get("/accounts/{account_id}", response_model=AccountOut)
async def account(account_id: RowId, tenant: CurrentTenant, request: Request) -> Any:
    return (await registry_of(request).account_of(tenant.id, account_id)).as_json()


@router.post("/persons", status_code=201, response_model=PersonOut)
async def add_person(body: PersonIn, tenant: CurrentTenant, request: Request) -> Any:
    registry = registry_of(request)
    person = await registry.enrol_person(
        tenant.id,
        body.name,
        body.id_number,
        body.password.get_secret_value(),
        actor_of(tenant.id, request),
    )
    return _person(await registry.person_of(tenant.id, person.id))


@router.get("/persons", response_model=PersonList)
async def persons(tenant: CurrentTenant, request: Request) -> Any:
    found = await registry_of(request).persons_of(tenant.id)
    return {"persons": [_person(record) for record in found]}


@router.get("/persons/{person_id}", response_model=PersonOut)
async def person(person_id: RowId, tenant: CurrentTenant, request: Request) -> Any:
    return _person(await registry_of(request).person_of(tenant.id, person_id))


@router.put("/persons/{person_id}/password", status_code=204)
async def change_password(
    person_id: RowId, body: PasswordIn, tenant: CurrentTenant, request: Request
) -> Response:
    """R2: the password is the person's, so every account of theirs changes."""
    await registry_of(request).change_password(
        tenant.id,
        person_id,
        body.password.get_secret_value(),
        actor_of(tenant.id, request),
    )
    return Response(status_code=204)


@router.post("/persons/{person_id}/numbers", status_code=201, response_model=PersonOut)
async def give_number(
    person_id: RowId, body: NumberIn, tenant: CurrentTenant, request: Request
) -> Any:
    """R1: the bureau has the number on this person now, and on nobody else."""
    registry = registry_of(request)
    await registry.give_number_in_tenant(
        tenant.id,
        person_id,
        body.number,
        default_at_bureau=body.default_at_bureau,
        is_sub_number=body.is_sub_number,
        actor=actor_of(tenant.id, request),
    )
    return _person(await registry.person_of(tenant.id, person_id))


async def _entry(
    registry: Registry, tenant_id: int, tax_id: str, account_id: int
) -> dict[str, Any]:
    for entry in await registry.listing_of(tenant_id, tax_id):
        if entry.id == account_id:
            return entry.as_json()
    raise NotFound(f"account {account_id} does not serve {tax_id}")


def _enterprise(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "tax_id": enterprise.tax_id,
        "name": enterprise.name,
        "region": enterprise.region,
        "region_name": region_name(enterprise.region),
        "region_overridden": enterprise.region_overridden,
        "created_at": enterprise.created_at.isoformat(),
    }


def _person(record: PersonRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        # The ID number went in whole; it comes back only recognisable.
        "id_number_masked": mask_id_number(record.id_number),
        "numbers": [
            {
                "number": held.number,
                "is_sub_number": held.is_sub_number,
                "default_at_bureau": held.default_at_bureau,
            }
            for held in record.numbers
        ],
        "accounts": [{"id": a.id, "number": a.number} for a in record.accounts],
    }
