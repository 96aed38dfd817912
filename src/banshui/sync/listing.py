"""The account listing ERPs pull: who logs in for an enterprise, as what (R8, R9).

An entry is one account in one enterprise's listing. Account events carry the
entry as the listing shows it, so a receiver can apply an event without asking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.identity import BUSINESSES, IDENTITIES
from banshui.accounts.models import (
    Account,
    AccountEnterprise,
    Enterprise,
    Person,
    PersonNumber,
)
from banshui.numbers.models import Number

# R9: an account should serve at most this many enterprises (warn, don't refuse).
MOST_ENTERPRISES = 5


@dataclass(frozen=True, slots=True)
class AccountWarning:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One account as an enterprise's listing shows it; never a password."""

    id: int
    tax_id: str
    enterprise_name: str
    number: str
    login_type: str
    person_id: int
    # 开票人: the person whose number this is appears on issued invoices (R8).
    issuer: str
    identity_code: str
    identity: str
    default_business: str
    default_business_name: str
    is_default: bool
    enterprises_served: int
    # Where the number's codes are claimed when another provider hosts it.
    provider_url: str | None = None
    warnings: list[AccountWarning] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Row:
    account: Account
    service: AccountEnterprise
    enterprise: Enterprise
    person: Person
    number: Number
    owner_id: int | None


async def entries(
    session: AsyncSession, account_ids: Collection[int]
) -> dict[tuple[int, str], Entry]:
    """Every listing entry of these accounts, keyed by account id and tax id."""
    rows = await _rows(session, account_ids)
    by_account: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_account[row.account.id].append(row)

    found: dict[tuple[int, str], Entry] = {}
    for served in by_account.values():
        warnings = _warnings(served)
        for row in served:
            found[(row.account.id, row.enterprise.tax_id)] = _entry(
                row, len(served), warnings
            )
    return found


async def listing(session: AsyncSession, enterprise: Enterprise) -> list[Entry]:
    """The enterprise's accounts, oldest first (what 数电配置's 更新 pulls)."""
    found = await entries(session, await accounts_serving(session, enterprise.id))
    return sorted(
        (entry for entry in found.values() if entry.tax_id == enterprise.tax_id),
        key=lambda entry: entry.id,
    )


async def accounts_serving(session: AsyncSession, enterprise_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(AccountEnterprise.account_id).where(
                AccountEnterprise.enterprise_id == enterprise_id
            )
        )
    )


async def _rows(session: AsyncSession, account_ids: Collection[int]) -> list[_Row]:
    if not account_ids:
        return []
    result = await session.execute(
        select(
            Account,
            AccountEnterprise,
            Enterprise,
            Person,
            Number,
            PersonNumber.person_id,
        )
        .join(AccountEnterprise, AccountEnterprise.account_id == Account.id)
        .join(Enterprise, Enterprise.id == AccountEnterprise.enterprise_id)
        .join(Person, Person.id == Account.person_id)
        .join(Number, Number.id == Account.number_id)
        .outerjoin(PersonNumber, PersonNumber.number_id == Account.number_id)
        .where(Account.id.in_(list(account_ids)))
        .order_by(Account.id, Enterprise.tax_id)
    )
    return [_Row(*row) for row in result]


def _warnings(served: list[_Row]) -> list[AccountWarning]:
    """R9's advice for one account, and a number that moved away from it (R1)."""
    first = served[0]
    warnings = []
    if len(served) > MOST_ENTERPRISES:
        warnings.append(
            AccountWarning(
                "serves_more_than_five",
                f"this account serves {len(served)} enterprises, and an account "
                f"should serve at most {MOST_ENTERPRISES}",
            )
        )
    if {row.service.default_business for row in served} == set(BUSINESSES):
        warnings.append(
            AccountWarning(
                "issue_and_receive_shared",
                "this account both issues and receives, and issuing and receiving "
                "should use separate accounts",
            )
        )
    if first.owner_id != first.person.id:
        warnings.append(_moved(first.number, first.person))
    return warnings


def _moved(number: Number, person: Person) -> AccountWarning:
    return AccountWarning(
        "number_moved",
        f"the bureau no longer has {number.msisdn} on {person.name}, "
        "so this account cannot log in",
    )


def _entry(row: _Row, served: int, warnings: list[AccountWarning]) -> Entry:
    business = row.service.default_business
    return Entry(
        id=row.account.id,
        tax_id=row.enterprise.tax_id,
        enterprise_name=row.enterprise.name,
        number=row.number.msisdn,
        login_type=row.account.login_type,
        person_id=row.person.id,
        issuer=row.person.name,
        identity_code=row.service.identity_code,
        identity=IDENTITIES.get(row.service.identity_code, row.service.identity_code),
        default_business=business,
        default_business_name=BUSINESSES.get(business, business),
        is_default=row.service.is_default,
        enterprises_served=served,
        provider_url=row.account.provider_url,
        warnings=list(warnings),
    )


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account with every enterprise it serves (``GET /accounts/{id}``)."""

    id: int
    number: str
    login_type: str
    person_id: int
    issuer: str
    provider_url: str | None
    enterprises: list[dict[str, Any]]
    warnings: list[AccountWarning]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def account_view(session: AsyncSession, account: Account) -> AccountView:
    person = await session.get(Person, account.person_id)
    number = await session.get(Number, account.number_id)
    assert person is not None and number is not None  # held by foreign keys
    found = await entries(session, [account.id])
    served = sorted(found.values(), key=lambda entry: entry.tax_id)
    if served:
        warnings = served[0].warnings
    else:
        owner = await session.scalar(
            select(PersonNumber.person_id).where(
                PersonNumber.number_id == account.number_id
            )
        )
        warnings = [] if owner == person.id else [_moved(number, person)]
    return AccountView(
        id=account.id,
        number=number.msisdn,
        login_type=account.login_type,
        person_id=person.id,
        issuer=person.name,
        provider_url=account.provider_url,
        enterprises=[_service(entry) for entry in served],
        warnings=warnings,
    )


def _service(entry: Entry) -> dict[str, Any]:
    return {
        "tax_id": entry.tax_id,
        "name": entry.enterprise_name,
        "identity_code": entry.identity_code,
        "identity": entry.identity,
        "default_business": entry.default_business,
        "default_business_name": entry.default_business_name,
        "is_default": entry.is_default,
    }
