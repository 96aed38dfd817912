"""Carrying out a chat command; the robot and ``banshui bind`` both call ``answer``.

Fields are checked in the order they are written and the first wrong one is
named; every check comes before the one write, so a refusal changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from banshui.accounts.models import Person, PersonNumber
from banshui.accounts.tenants import (
    HeldInAnotherTenant,
    TenantUnclear,
    tenant_id_called,
    tenant_to_bind,
)
from banshui.accounts.uscc import validate_tax_id
from banshui.chat import answers
from banshui.chat.answers import Answer, Refused
from banshui.chat.parsing import Command, Unknown, Verb, WrongCount, parse
from banshui.core.errors import InvalidInput, NotFound
from banshui.numbers.binding import (
    AlreadyBound,
    BoundElsewhere,
    BoundPhoneIsASubNumber,
    NotASubNumber,
    NotBound,
    UnknownNumber,
    bind,
    describe,
    unbind,
)
from banshui.numbers.customers import customer_for_key, secret_matches
from banshui.numbers.models import Customer, Number
from banshui.numbers.phones import mask, normalize_mobile
from banshui.runtime import Runtime


async def answer(
    runtime: Runtime,
    text: str,
    actor: str,
    replace: bool = False,
    tenant: str | None = None,
) -> Answer:
    """The reply to one message: every text gets one; only storage failures raise.

    ``replace`` lets 绑定小号 change an existing binding (``banshui bind
    --replace``); through the robot a binding is changed by unbinding first.
    ``tenant`` (a name or id, ``banshui bind --tenant``) says whose enterprise
    the binding is for when several tenants have its tax id.
    """
    parsed = parse(text)
    if isinstance(parsed, Unknown):
        return Answer(text=answers.help_text(), ok=False)
    if isinstance(parsed, WrongCount):
        return answers.refusal(
            parsed.verb, answers.wrong_count(parsed.verb, parsed.got)
        )

    try:
        return await _carry_out(runtime, parsed, actor, replace, tenant)
    except Refused as refused:
        return answers.refusal(parsed.verb, refused.reason)


async def _carry_out(
    runtime: Runtime, command: Command, actor: str, replace: bool, tenant: str | None
) -> Answer:
    if command.verb is Verb.BIND:
        return await _bind(runtime, command.fields, actor, replace, tenant)
    if command.verb is Verb.UNBIND:
        return await _unbind(runtime, command.fields[0], actor)
    return await _query(runtime, command.fields[0])


async def _bind(
    runtime: Runtime,
    fields: tuple[str, ...],
    actor: str,
    replace: bool,
    tenant: str | None,
) -> Answer:
    tax_field, key_field, secret_field, phone_field, number_field = fields
    tax_id = _tax_id(tax_field)
    customer = await _customer(runtime, key_field)
    _check_secret(runtime, customer, secret_field)
    phone = _mobile("真实手机号", phone_field)
    number = _mobile("小号", number_field)
    if number == phone:
        raise Refused("小号不能与真实手机号相同")
    tenant_id = await _tenant(runtime, tax_id, number, tenant)

    try:
        done = await bind(
            runtime.db,
            runtime.clock,
            number=number,
            customer_id=customer.id,
            bound_phone=phone,
            tax_id=tax_id,
            tenant_id=tenant_id,
            actor=actor,
            replace=replace,
        )
    except AlreadyBound as bound:
        raise Refused(_already_bound(number, bound)) from None
    except BoundPhoneIsASubNumber:
        raise Refused(f"真实手机号 {phone} 是小号，不是本人手机") from None
    except BoundElsewhere:
        raise Refused(f"小号 {number} 已绑定其他客户，请先解绑小号") from None
    except NotASubNumber:
        raise Refused(
            f"小号 {number} 在 banshui 中登记为真实手机号，不是小号"
        ) from None

    return answers.bound(done.view, done.changed)


async def _tenant(
    runtime: Runtime, tax_id: str, number: str, named: str | None
) -> int | None:
    """The tenant whose enterprise the binding is for: the tax id alone may be
    several tenants' (``tenant_to_bind``); an operator may name it."""
    chosen = None
    if named is not None:
        try:
            chosen = await tenant_id_called(runtime.db, named)
        except NotFound:
            raise Refused(f"没有租户 {named}") from None
    try:
        return await tenant_to_bind(runtime.db, tax_id, number, chosen)
    except TenantUnclear:
        if chosen is not None:
            raise Refused(f"租户 {named} 没有税号 {tax_id} 的企业") from None
        raise Refused(
            f"税号 {tax_id} 的企业登记在多个租户下，无法确定小号 {number} 属于哪个"
            "租户；请在服务器上用 banshui bind '…' --tenant 租户 指定"
        ) from None
    except HeldInAnotherTenant:
        raise Refused(
            f"小号 {number} 属于另一租户的自然人，不能为税号 {tax_id} 的企业绑定"
        ) from None


def _already_bound(number: str, bound: AlreadyBound) -> str:
    phone = mask(bound.bound_phone) if bound.bound_phone else "无"
    return (
        f"小号 {number} 已绑定真实手机号 {phone}、税号 {bound.tax_id or '无'}；"
        f"如需更换，请先发送 解绑小号#{number}（本机可用 banshui bind --replace）"
    )


async def _unbind(runtime: Runtime, number_field: str, actor: str) -> Answer:
    number = _mobile("小号", number_field)

    try:
        previous = await unbind(runtime.db, runtime.clock, number=number, actor=actor)
    except UnknownNumber:
        raise Refused(f"banshui 中没有小号 {number}") from None
    except NotBound:
        raise Refused(f"小号 {number} 未绑定") from None

    return answers.unbound(previous)


async def _query(runtime: Runtime, number_field: str) -> Answer:
    number = _mobile("小号", number_field)

    try:
        view = await describe(runtime.db, runtime.clock, number)
    except UnknownNumber:
        raise Refused(f"banshui 中没有小号 {number}") from None

    owner = await _owner(runtime, number)
    spent = await runtime.inbox.spent_today(number)
    return answers.queried(view, owner, spent)


def _tax_id(value: str) -> str:
    if not value:
        raise answers.empty("税号")
    try:
        return validate_tax_id(value, field="税号")
    except InvalidInput:
        reason = answers.tax_id_reason(value)
        raise Refused(f"{answers.named('税号', value)} {reason}") from None


async def _customer(runtime: Runtime, app_key: str) -> Customer:
    if not app_key:
        raise answers.empty("appkey")
    customer = await customer_for_key(runtime.db, app_key)
    if customer is None:
        raise Refused(f"{answers.named('appkey', app_key)} 不存在")
    return customer


def _check_secret(runtime: Runtime, customer: Customer, app_secret: str) -> None:
    if not app_secret:
        raise answers.empty("appsecret")
    if not secret_matches(runtime.vault, customer, app_secret):
        raise Refused("appsecret 与 appkey 不匹配")


def _mobile(label: str, value: str) -> str:
    if not value:
        raise answers.empty(label)
    try:
        return normalize_mobile(value, field=label)
    except InvalidInput:
        raise Refused(
            f"{answers.named(label, value)} 不是有效的中国大陆手机号"
        ) from None


async def _owner(runtime: Runtime, number: str) -> str | None:
    """The person the bureau has this number on, if banshui knows them (R1)."""
    async with runtime.db.session() as session:
        name: str | None = await session.scalar(
            select(Person.name)
            .join(PersonNumber, PersonNumber.person_id == Person.id)
            .join(Number, Number.id == PersonNumber.number_id)
            .where(Number.msisdn == number)
        )
    return name
