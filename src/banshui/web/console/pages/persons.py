"""自然人: persons, their numbers and each number's onboarding checklist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from banshui.accounts.identity import mask_id_number, validate_id_number
from banshui.accounts.models import Person, PersonNumber
from banshui.accounts.service import Registry
from banshui.accounts.tenants import BoundForAnotherEnterprise
from banshui.accounts.uscc import PROVINCES, SEPARATE_CITIES
from banshui.api.deps import runtime_of
from banshui.core.errors import Conflict, InvalidInput
from banshui.numbers.models import Number
from banshui.runtime import Runtime
from banshui.web.console import forms, scope
from banshui.web.console.guard import ConsoleRoute, Operating, Viewing
from banshui.web.console.hosting import hosting_of, replace_hosting
from banshui.web.console.login_check import start_check
from banshui.web.console.onboarding import (
    DAILY_CODES,
    note_addition,
    note_refusal,
    onboarding,
)
from banshui.web.console.refusals import BOUND_FOR_ANOTHER_ENTERPRISE
from banshui.web.console.rendering import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

REGIONS = {**PROVINCES, **SEPARATE_CITIES}
SHANGHAI = "31"


@router.get("/persons", response_class=HTMLResponse)
async def persons_page(request: Request, caller: Viewing) -> Response:
    runtime = runtime_of(request)
    found = await onboarding(runtime, caller.tenant_id)
    async with runtime.db.session() as session:
        tenants = await scope.tenants(session, caller)
    names = {tenant.id: tenant.name for tenant in tenants}
    choices = [
        (
            card.person.id,
            f"{card.person.name}（{names.get(card.person.tenant_id, '')}）",
        )
        for card in found.persons
    ]
    context = {
        "persons": found.persons,
        "unowned": found.unowned,
        "tenants": tenants,
        "person_choices": choices,
        "regions": REGIONS,
        "shanghai": SHANGHAI,
        "daily_codes": DAILY_CODES,
        "mask_id_number": mask_id_number,
    }
    return render(request, "console/persons.html", caller, context)


@router.post("/persons")
async def add_person(request: Request, caller: Operating) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    name = forms.required(form, "name", "姓名", 100)
    try:
        id_number = validate_id_number(
            forms.required(form, "id_number", "身份证号", 18)
        )
    except InvalidInput:
        raise InvalidInput(
            "身份证号不正确（18 位，含校验位）。", field="id_number"
        ) from None
    password = forms.secret(form, "password")
    if not password:
        raise InvalidInput("请填写电子税局登录密码。", field="password")
    async with runtime.db.session() as session:
        tenant_id = await scope.tenant_for_new(
            session, caller, forms.text(form, "tenant_id")
        )

    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.add_person(tenant_id, name, id_number, password)
    return RedirectResponse("/persons?done=person_added", 303)


@router.post("/persons/{person_id}/password")
async def change_password(
    request: Request, person_id: int, caller: Operating
) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    password = forms.secret(form, "password")
    if not password:
        raise InvalidInput("请填写新的电子税局登录密码。", field="password")
    async with runtime.db.session() as session:
        person = await scope.person(session, caller, person_id)

    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.change_password(person.tenant_id, person_id, password, caller.actor)
    return RedirectResponse(f"/persons?done=password_changed#p-{person_id}", 303)


@router.post("/numbers/{number_id}/added")
async def number_added(request: Request, number_id: int, caller: Operating) -> Response:
    """The operator's tick: the person added the number at the bureau (R15) with
    默认手机号 = 否 and the face check; a number not yet theirs becomes theirs."""
    runtime = runtime_of(request)
    form = await request.form()
    if not (forms.checked(form, "not_default") and forms.checked(form, "face_checked")):
        raise InvalidInput(
            "请确认已选择默认手机号「否」并完成了人脸认证。", field="face_checked"
        )
    async with runtime.db.session() as session:
        number = await scope.number(session, caller, number_id)
        person = await scope.person(
            session, caller, forms.identifier(form, "person_id") or 0
        )
        owned = await session.scalar(
            select(PersonNumber.id).where(
                PersonNumber.number_id == number.id,
                PersonNumber.person_id == person.id,
            )
        )

    if owned is None:
        await _give(runtime, person, number, caller.actor)
    async with runtime.db.transaction() as session:
        note_addition(session, runtime.clock, number, person.id, caller.actor)
    return RedirectResponse(f"/persons?done=number_added#n-{number.id}", 303)


async def _give(runtime: Runtime, person: Person, number: Number, actor: str) -> None:
    """The number is the person's now (R1: it leaves whoever had it)."""
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    try:
        await registry.give_number_in_tenant(
            person.tenant_id,
            person.id,
            number.msisdn,
            default_at_bureau=False,
            is_sub_number=number.is_sub_number,
            actor=actor,
        )
    except BoundForAnotherEnterprise:
        raise Conflict(BOUND_FOR_ANOTHER_ENTERPRISE, field="person_id") from None
    except Conflict:
        raise Conflict(
            "这个号码属于其他租户（在税局属于其自然人，或绑定给其企业）。",
            field="person_id",
        ) from None


@router.post("/numbers/{number_id}/refused")
async def number_refused(
    request: Request, number_id: int, caller: Operating
) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    region = forms.choice(form, "region", "拒绝添加的地区", REGIONS)
    async with runtime.db.transaction() as session:
        number = await scope.number(session, caller, number_id)
        await note_refusal(session, runtime.clock, number, region, caller.actor)
    return RedirectResponse(f"/persons?done=refusal_noted#n-{number_id}", 303)


@router.post("/accounts/{account_id}/provider")
async def replace_provider(
    request: Request, account_id: int, caller: Operating
) -> Response:
    """New appKey/appSecret for an account whose number another provider hosts."""
    runtime = runtime_of(request)
    hosting = hosting_of(await request.form())
    if hosting is None:
        raise InvalidInput(
            "请填写服务商接口地址、appKey 和 appSecret。", field="app_key"
        )
    async with runtime.db.transaction() as session:
        account = await scope.account(session, caller, account_id)
        await replace_hosting(
            session, runtime.vault, runtime.clock, account, hosting, caller.actor
        )
    return RedirectResponse(f"/persons?done=hosting_set#n-{account.number_id}", 303)


@router.post("/numbers/{number_id}/test-login")
async def test_login(request: Request, number_id: int, caller: Operating) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        number = await scope.number(session, caller, number_id)
    login_id = await start_check(runtime, number, caller.actor)
    return RedirectResponse(f"/logins/{login_id}", 303)
