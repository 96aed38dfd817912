"""Enterprises with their e-tax accounts, as the console shows them.

The accounts come from the same listing ERPs pull (``banshui.sync.listing``), so
the console and the API name the same 开票人 (R8) and give the same R9 advice;
the console says it in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.models import AccountEnterprise, Enterprise, Tenant
from banshui.accounts.uscc import region_name
from banshui.sync.listing import Entry, entries

WARNINGS = {
    "serves_more_than_five": (
        "该账号服务 {count} 家企业，建议一个账号最多服务 5 家（R9）。"
    ),
    "issue_and_receive_shared": (
        "该账号既用于开票也用于收票，建议开票与收票使用不同账号（R9）。"
    ),
    "number_moved": "号码已不在「{person}」名下，此账号无法再登录（R1）。",
}
NO_RECEIVE = "没有默认业务为收票管理的账号：收票只用这类账号，收票登录会失败（R9）。"
NO_ISSUE = "没有默认业务为开票管理的账号：开票时须指定账号（R9）。"
NO_ACCOUNT = "还没有电子税局账号：点「新增账号」添加。"

LOGIN_TYPES = {"sub_number": "办税小号", "phone": "手机验证码"}


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One account as it serves one enterprise, with its advice in Chinese."""

    entry: Entry
    warnings: list[str]

    @property
    def login_type_label(self) -> str:
        return LOGIN_TYPES.get(self.entry.login_type, self.entry.login_type)


@dataclass(slots=True)
class EnterpriseCard:
    enterprise: Enterprise
    tenant: str
    accounts: list[AccountLine] = field(default_factory=list)
    # What cannot run unattended: a business no account is the default for.
    notes: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        return region_name(self.enterprise.region)


async def enterprise_cards(
    session: AsyncSession, tenant_ids: list[int], search: str = ""
) -> list[EnterpriseCard]:
    """The tenants' enterprises; with ``search``, those whose name or 税号 hold it."""
    names = dict((await session.execute(select(Tenant.id, Tenant.name))).all())
    query = (
        select(Enterprise)
        .where(Enterprise.tenant_id.in_(tenant_ids))
        .order_by(Enterprise.tenant_id, Enterprise.id)
    )
    if search:
        query = query.where(
            or_(
                Enterprise.name.contains(search, autoescape=True),
                Enterprise.tax_id.contains(search.upper(), autoescape=True),
            )
        )
    found = await session.scalars(query)
    cards = {e.id: EnterpriseCard(e, names.get(e.tenant_id, "")) for e in found}
    served = await session.execute(
        select(AccountEnterprise.enterprise_id, AccountEnterprise.account_id).where(
            AccountEnterprise.enterprise_id.in_(list(cards))
        )
    )
    pairs = list(served)
    listed = await entries(session, {account_id for _, account_id in pairs})

    for enterprise_id, account_id in sorted(pairs, key=lambda pair: pair[1]):
        card = cards[enterprise_id]
        entry = listed[(account_id, card.enterprise.tax_id)]
        card.accounts.append(AccountLine(entry, _chinese(entry)))
    for card in cards.values():
        card.notes = _notes(card.accounts)
    return list(cards.values())


def _chinese(entry: Entry) -> list[str]:
    said = []
    for warning in entry.warnings:
        template = WARNINGS.get(warning.code)
        if template is None:
            said.append(warning.message)
            continue
        said.append(
            template.format(count=entry.enterprises_served, person=entry.issuer)
        )
    return said


def _notes(accounts: list[AccountLine]) -> list[str]:
    if not accounts:
        return [NO_ACCOUNT]
    businesses = {line.entry.default_business for line in accounts}
    notes = []
    if "receive" not in businesses:
        notes.append(NO_RECEIVE)
    if "issue" not in businesses:
        notes.append(NO_ISSUE)
    return notes
