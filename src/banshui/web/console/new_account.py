"""The 新增 form of the guide: an e-tax account for an enterprise.

登录类型 (办税小号 or 手机验证码), 账户 (the number), 身份 (the identity code,
R7), the default business, and for a
sub-number hosted by another provider its appKey/appSecret. An account has no
password of its own (R2): the person's stored one is used, and 密码 is filled in
only with 更新密码, when the person changed it at the bureau. The person is the
number's owner at the bureau; a number banshui has no owner for yet is given to
the person chosen on the form. The form's fields are checked here, in Chinese,
before the registry (which checks them again) is asked to write anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from banshui.accounts.identity import BUSINESSES, IDENTITIES
from banshui.accounts.models import (
    Account,
    AccountEnterprise,
    Enterprise,
    Person,
    PersonNumber,
)
from banshui.accounts.service import PASSWORD_PURPOSE, Registry
from banshui.accounts.tenants import BoundForAnotherEnterprise
from banshui.core.errors import Conflict, InvalidInput
from banshui.numbers.models import Number
from banshui.runtime import Runtime
from banshui.web.console import forms
from banshui.web.console.accounts import LOGIN_TYPES
from banshui.web.console.hosting import Hosting, check_hostable, hosting_of
from banshui.web.console.refusals import BOUND_FOR_ANOTHER_ENTERPRISE


@dataclass(frozen=True, slots=True)
class NewAccount:
    login_type: str
    number: str
    # None: the person's stored password, unchanged (R2).
    password: str | None
    identity_code: str
    business: str
    is_default: bool
    person_id: int | None
    hosting: Hosting | None
    # The operator says the person changed their password at the bureau (R2).
    password_changed: bool = False


@dataclass(frozen=True, slots=True)
class Added:
    account_id: int
    password_changed: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    person: Person
    owned: bool
    password_changed: bool


def read_new_account(form: FormData) -> NewAccount:
    """The form's fields, each checked, the first wrong one named in Chinese."""
    login_type = forms.choice(form, "login_type", "登录类型", LOGIN_TYPES)
    number = forms.mobile(form, "account", "账户")
    password = forms.secret(form, "password") or None
    password_changed = forms.checked(form, "update_password")
    if password_changed and password is None:
        raise InvalidInput(
            "勾选「更新密码」时，请填写该自然人在税局的新密码。", field="password"
        )
    return NewAccount(
        login_type=login_type,
        number=number,
        password=password,
        identity_code=forms.choice(form, "identity_code", "身份", IDENTITIES),
        business=forms.choice(form, "default_business", "默认业务", BUSINESSES),
        is_default=forms.checked(form, "is_default"),
        person_id=forms.identifier(form, "person_id"),
        hosting=hosting_of(form),
        password_changed=password_changed,
    )


async def add_account(
    runtime: Runtime, enterprise: Enterprise, new: NewAccount, actor: str
) -> Added:
    async with runtime.db.session() as session:
        plan = await _plan(runtime, session, enterprise, new)

    tenant_id = enterprise.tenant_id
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    if not plan.owned:
        await _give(registry, tenant_id, plan.person, new, actor)
    if plan.password_changed and new.password is not None:
        await registry.change_password(tenant_id, plan.person.id, new.password, actor)
    hosting = new.hosting
    account = await registry.serve_enterprise(
        tenant_id,
        enterprise.tax_id,
        login_type=new.login_type,
        msisdn=new.number,
        identity_code=new.identity_code,
        default_business=new.business,
        is_default=new.is_default,
        actor=actor,
        provider_url=hosting.provider_url if hosting else None,
        app_key=hosting.app_key if hosting else None,
        app_secret=hosting.app_secret if hosting else None,
    )
    return Added(account.id, plan.password_changed)


async def _give(
    registry: Registry, tenant_id: int, person: Person, new: NewAccount, actor: str
) -> None:
    """The number is the person's now: the one the form chose (R1)."""
    try:
        await registry.give_number_in_tenant(
            tenant_id,
            person.id,
            new.number,
            default_at_bureau=False,
            is_sub_number=new.login_type == "sub_number",
            actor=actor,
        )
    except BoundForAnotherEnterprise:
        raise Conflict(BOUND_FOR_ANOTHER_ENTERPRISE, field="account") from None


async def _plan(
    runtime: Runtime, session: AsyncSession, enterprise: Enterprise, new: NewAccount
) -> _Plan:
    if new.hosting is not None and new.login_type != "sub_number":
        raise InvalidInput(
            "只有办税小号需要服务商的 appKey/appSecret。", field="app_key"
        )
    number = await session.scalar(select(Number).where(Number.msisdn == new.number))
    check_hostable(number, new.hosting)
    if (
        number is not None
        and new.login_type == "sub_number"
        and not number.is_sub_number
    ):
        raise InvalidInput(
            "这个号码是真实手机号，登录类型请选「手机验证码」。", field="login_type"
        )
    owner = await _owner(session, number)
    person = await _person(session, enterprise, owner, new.person_id)
    if number is not None:
        await _check_account(session, person, number, enterprise, new)

    if new.password is None:
        return _Plan(person, owner is not None, password_changed=False)
    stored = runtime.vault.open(person.password_sealed, PASSWORD_PURPOSE)
    changed = stored != new.password
    if changed and not new.password_changed:
        raise InvalidInput(
            f"密码与「{person.name}」已保存的电子税局密码不同。若本人已在税局修改"
            "密码，请勾选「更新密码」，其所有账号将同时生效（R2）。",
            field="password",
        )
    return _Plan(person, owner is not None, changed)


async def _owner(session: AsyncSession, number: Number | None) -> Person | None:
    if number is None:
        return None
    owner: Person | None = await session.scalar(
        select(Person)
        .join(PersonNumber, PersonNumber.person_id == Person.id)
        .where(PersonNumber.number_id == number.id)
    )
    return owner


async def _person(
    session: AsyncSession,
    enterprise: Enterprise,
    owner: Person | None,
    chosen_id: int | None,
) -> Person:
    """The number's owner at the bureau, or the person the form names (R1)."""
    if owner is not None:
        if owner.tenant_id != enterprise.tenant_id:
            raise InvalidInput(
                "该号码在税局属于其他租户的自然人，不能在这里添加。", field="account"
            )
        if chosen_id is not None and chosen_id != owner.id:
            raise InvalidInput(
                f"该号码在税局属于「{owner.name}」，不是所选的自然人（R1）。",
                field="person_id",
            )
        return owner

    chosen = await session.get(Person, chosen_id) if chosen_id else None
    if chosen is None or chosen.tenant_id != enterprise.tenant_id:
        raise InvalidInput(
            "该号码还没有登记到自然人：请选择在税局添加了这个号码的自然人。",
            field="person_id",
        )
    return chosen


async def _check_account(
    session: AsyncSession,
    person: Person,
    number: Number,
    enterprise: Enterprise,
    new: NewAccount,
) -> None:
    """An existing account on the number takes the enterprise only as it is."""
    account = await session.scalar(
        select(Account)
        .where(
            Account.tenant_id == enterprise.tenant_id,
            Account.person_id == person.id,
            Account.number_id == number.id,
        )
        .order_by(Account.id)
        .limit(1)
    )
    if account is None:
        return

    if account.login_type != new.login_type:
        label = LOGIN_TYPES.get(account.login_type, account.login_type)
        raise InvalidInput(
            f"这个号码的账号登录类型是「{label}」，请保持一致。", field="login_type"
        )
    if new.hosting is not None and account.provider_app_key is None:
        raise Conflict(
            "这个号码已有由本平台收短信的账号，不能再填 appKey/appSecret。",
            field="app_key",
        )
    if new.hosting is not None and new.hosting.app_key != account.provider_app_key:
        raise Conflict(
            "这个号码的账号已有服务商凭据：要更换，请到「自然人」页。", field="app_key"
        )
    serving = await session.scalar(
        select(AccountEnterprise.id).where(
            AccountEnterprise.account_id == account.id,
            AccountEnterprise.enterprise_id == enterprise.id,
        )
    )
    if serving is not None:
        raise Conflict("这个账号已经服务本企业。", field="account")
