"""Choosing the account for a request (R9) and the numbers it may log in with (R2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from banshui.accounts.identity import BUSINESSES
from banshui.accounts.models import (
    Account,
    AccountEnterprise,
    Enterprise,
    Person,
    PersonNumber,
)
from banshui.numbers.models import Number


class NoAccount(Exception):
    """No account may serve this request; the message says what to set up."""


@dataclass(frozen=True, slots=True)
class Plan:
    account: Account
    person: Person
    enterprise: Enterprise
    identity_code: str
    number: str  # the account's own number
    login_type: str
    business: str


def choose_account(
    session: Session,
    enterprise: Enterprise,
    business: str,
    requested_account_id: int | None,
) -> Plan:
    """R9: receive with a 收票管理 account; issue with the chosen one or 开票管理."""
    rows = list(
        session.execute(
            select(Account, AccountEnterprise, Person, Number)
            .join(AccountEnterprise, AccountEnterprise.account_id == Account.id)
            .join(Person, Person.id == Account.person_id)
            .join(Number, Number.id == Account.number_id)
            .where(AccountEnterprise.enterprise_id == enterprise.id)
            .order_by(Account.id)
        ).all()
    )
    if requested_account_id is not None:
        rows = [row for row in rows if row[0].id == requested_account_id]
        if not rows:
            raise NoAccount(
                f"account {requested_account_id} does not serve {enterprise.tax_id}"
            )
    if requested_account_id is None or business == "receive":
        rows = [row for row in rows if row[1].default_business == business]
    if not rows:
        raise NoAccount(
            f"no account of {enterprise.tax_id} has {BUSINESSES[business]} "
            "as its default business"
        )

    # Prefer accounts that log in unattended, then the enterprise's default.
    rows.sort(
        key=lambda row: (row[0].login_type != "sub_number", not row[1].is_default)
    )
    account, service, person, number = rows[0]
    return Plan(
        account=account,
        person=person,
        enterprise=enterprise,
        identity_code=service.identity_code,
        number=number.msisdn,
        login_type=account.login_type,
        business=business,
    )


def numbers_of(session: Session, plan: Plan) -> list[str]:
    """The account's number first, then the person's other sub-numbers (R2).

    Only numbers the registry still gives this person: one that moved to someone
    else (R1) is theirs now, whichever account still names it.
    """
    owned = session.execute(
        select(Number.msisdn, Number.is_sub_number)
        .join(PersonNumber, PersonNumber.number_id == Number.id)
        .where(PersonNumber.person_id == plan.person.id)
        .order_by(Number.id)
    ).all()
    own = [plan.number] if any(row[0] == plan.number for row in owned) else []
    others = [msisdn for msisdn, sub in owned if sub and msisdn != plan.number]
    return [*own, *others]
