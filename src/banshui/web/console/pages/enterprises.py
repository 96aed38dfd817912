"""企业: enterprises per tenant with their e-tax accounts; the 新增 form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from banshui.accounts.identity import BUSINESSES, IDENTITIES
from banshui.accounts.models import Person
from banshui.accounts.service import Registry
from banshui.api.deps import runtime_of
from banshui.core.errors import BanshuiError, NotFound
from banshui.web.console import forms, scope
from banshui.web.console.accounts import LOGIN_TYPES, enterprise_cards
from banshui.web.console.guard import Caller, ConsoleRoute, Operating, Viewing
from banshui.web.console.new_account import add_account, read_new_account
from banshui.web.console.new_enterprise import (
    REGIONS,
    add_enterprise,
    read_new_enterprise,
)
from banshui.web.console.refusals import in_chinese
from banshui.web.console.rendering import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# Fields the 新增 form shows again after a refusal; secrets are never echoed.
_KEPT = (
    "login_type",
    "account",
    "identity_code",
    "default_business",
    "person_id",
    "provider_url",
    "app_key",
)
_ENTERPRISE_KEPT = ("tax_id", "name", "region", "tenant_id")
SEARCH_LENGTH = 100


@router.get("/enterprises", response_class=HTMLResponse)
async def enterprises_page(
    request: Request, caller: Viewing, q: str = "", tenant: str = ""
) -> Response:
    """Per tenant; ``q`` finds by name or 税号, ``tenant`` narrows to one."""
    runtime = runtime_of(request)
    search = q.strip()[:SEARCH_LENGTH]
    async with runtime.db.session() as session:
        tenants = await scope.tenants(session, caller)
        shown = [t.id for t in tenants if not tenant or str(t.id) == tenant]
        cards = await enterprise_cards(session, shown, search)
    context = {
        "cards": cards,
        "businesses": BUSINESSES,
        "tenants": tenants,
        "q": search,
        "tenant": tenant,
    }
    return render(request, "console/enterprises.html", caller, context)


@router.get("/enterprises/new", response_class=HTMLResponse)
async def new_enterprise_form(request: Request, caller: Operating) -> Response:
    return await _new_enterprise_page(request, caller, {}, None)


@router.post("/enterprises/new", response_class=HTMLResponse)
async def new_enterprise_posted(request: Request, caller: Operating) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    try:
        new = read_new_enterprise(form)
        async with runtime.db.session() as session:
            tenant_id = await scope.tenant_for_new(
                session, caller, forms.text(form, "tenant_id")
            )
        made = await add_enterprise(runtime, tenant_id, new, caller.actor)
    except BanshuiError as refused:
        kept = {name: forms.text(form, name) for name in _ENTERPRISE_KEPT}
        return await _new_enterprise_page(request, caller, kept, refused)
    return _back(made.id, "enterprise_added")


async def _new_enterprise_page(
    request: Request,
    caller: Caller,
    values: dict[str, str],
    refused: BanshuiError | None,
) -> Response:
    async with runtime_of(request).db.session() as session:
        tenants = await scope.tenants(session, caller)
    context: dict[str, Any] = {
        "tenants": tenants,
        "regions": REGIONS,
        "values": values,
        "error": in_chinese(refused) if refused else None,
        "error_field": refused.field if refused else None,
    }
    status = refused.status if refused else 200
    return render(request, "console/enterprise_new.html", caller, context, status)


@router.post("/enterprises/{enterprise_id}/default")
async def default_account(
    request: Request, enterprise_id: int, caller: Operating
) -> Response:
    """设置默认账号: the account becomes the default for its default business."""
    form = await request.form()
    await _change(request, caller, enterprise_id, form, is_default=True)
    return _back(enterprise_id, "default_set")


@router.post("/enterprises/{enterprise_id}/business")
async def default_business(
    request: Request, enterprise_id: int, caller: Operating
) -> Response:
    form = await request.form()
    business = forms.choice(form, "default_business", "默认业务", BUSINESSES)
    await _change(request, caller, enterprise_id, form, default_business=business)
    return _back(enterprise_id, "business_set")


async def _change(
    request: Request,
    caller: Caller,
    enterprise_id: int,
    form: FormData,
    **change: Any,
) -> None:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        enterprise = await scope.enterprise(session, caller, enterprise_id)
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    try:
        await registry.change_service(
            enterprise.tenant_id,
            enterprise.tax_id,
            forms.identifier(form, "account_id") or 0,
            actor=caller.actor,
            **change,
        )
    except NotFound:
        raise NotFound("该账号不服务这家企业。") from None


@router.get("/enterprises/{enterprise_id}/accounts/new", response_class=HTMLResponse)
async def new_account_form(
    request: Request, enterprise_id: int, caller: Operating
) -> Response:
    return await _new_account_page(request, caller, enterprise_id, {}, None)


@router.post("/enterprises/{enterprise_id}/accounts/new", response_class=HTMLResponse)
async def new_account_posted(
    request: Request, enterprise_id: int, caller: Operating
) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    async with runtime.db.session() as session:
        enterprise = await scope.enterprise(session, caller, enterprise_id)
    try:
        added = await add_account(
            runtime, enterprise, read_new_account(form), caller.actor
        )
    except BanshuiError as refused:
        kept = {name: forms.text(form, name) for name in _KEPT}
        return await _new_account_page(request, caller, enterprise_id, kept, refused)
    done = "password_changed" if added.password_changed else "account_added"
    return _back(enterprise_id, done)


async def _new_account_page(
    request: Request,
    caller: Caller,
    enterprise_id: int,
    values: dict[str, str],
    refused: BanshuiError | None,
) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        enterprise = await scope.enterprise(session, caller, enterprise_id)
        persons = await session.scalars(
            select(Person)
            .where(Person.tenant_id == enterprise.tenant_id)
            .order_by(Person.name)
        )
        context: dict[str, Any] = {
            "enterprise": enterprise,
            "persons": list(persons),
            "identities": IDENTITIES,
            "businesses": BUSINESSES,
            "login_types": LOGIN_TYPES,
            "values": values,
            "error": in_chinese(refused) if refused else None,
            "error_field": refused.field if refused else None,
        }
    status = refused.status if refused else 200
    return render(request, "console/account_new.html", caller, context, status)


def _back(enterprise_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/enterprises?done={done}#e-{enterprise_id}", 303)
