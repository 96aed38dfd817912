"""Adding and changing enterprises, persons, their numbers and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.identity import (
    validate_business,
    validate_id_number,
    validate_identity,
)
from banshui.accounts.models import (
    Account,
    AccountEnterprise,
    Enterprise,
    Person,
    PersonNumber,
)
from banshui.accounts.uscc import region_of, validate_region, validate_tax_id
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.vault import Vault
from banshui.numbers.models import Number
from banshui.numbers.phones import normalize_mobile

PASSWORD_PURPOSE = "tax-password"
_T = TypeVar("_T")
LOGIN_TYPES = ("sub_number", "phone")


@dataclass(frozen=True, slots=True)
class Service:
    """An enterprise an account is to serve, as the 新增 form gives it."""

    tax_id: str
    identity_code: str
    default_business: str
    is_default: bool = False


class Registry:
    """The login side's registry; every write is validated first and audited."""

    def __init__(self, db: Database, vault: Vault, clock: Clock) -> None:
        self._db = db
        self._vault = vault
        self._clock = clock

    async def add_enterprise(
        self, tenant_id: int, tax_id: str, name: str, region: str | None = None
    ) -> Enterprise:
        compact = validate_tax_id(tax_id)
        derived = region_of(compact)
        assert derived is not None  # validate_tax_id refuses unknown regions
        chosen = validate_region(region) if region else derived
        if not name.strip():
            raise InvalidInput("must not be empty", field="name")

        enterprise = Enterprise(
            tenant_id=tenant_id,
            tax_id=compact,
            name=name.strip(),
            region=chosen,
            region_overridden=chosen != derived,
            created_at=self._clock.now(),
        )
        async with self._db.transaction() as session:
            taken = await session.scalar(
                select(Enterprise.id).where(
                    Enterprise.tenant_id == tenant_id, Enterprise.tax_id == compact
                )
            )
            if taken:
                raise Conflict(f"{compact} is registered already", field="tax_id")
            session.add(enterprise)
        return enterprise

    async def add_person(
        self, tenant_id: int, name: str, id_number: str, password: str
    ) -> Person:
        if not name.strip():
            raise InvalidInput("must not be empty", field="name")
        if not password:
            raise InvalidInput("must not be empty", field="password")

        person = Person(
            tenant_id=tenant_id,
            name=name.strip(),
            id_number=validate_id_number(id_number),
            password_sealed=self._vault.seal(password, PASSWORD_PURPOSE),
            created_at=self._clock.now(),
        )
        async with self._db.transaction() as session:
            session.add(person)
        return person

    async def set_password(self, person_id: int, password: str, actor: str) -> None:
        """The password is the person's: every account of theirs changes (R2)."""
        if not password:
            raise InvalidInput("must not be empty", field="password")
        async with self._db.transaction() as session:
            person = await _get(session, Person, person_id, "person")
            person.password_sealed = self._vault.seal(password, PASSWORD_PURPOSE)
            record(
                session,
                self._clock,
                actor=actor,
                action="person.password_changed",
                subject=f"person:{person_id}",
            )

    def password_of(self, person: Person) -> str:
        return self._vault.open(person.password_sealed, PASSWORD_PURPOSE)

    async def give_number(
        self,
        person_id: int,
        msisdn: str,
        *,
        default_at_bureau: bool = False,
        is_sub_number: bool = True,
        bound_phone: str | None = None,
        service_ends_on: date | None = None,
        actor: str = "cli",
    ) -> Number:
        """Record that the bureau has this number on the person; it moves (R1)."""
        msisdn = normalize_mobile(msisdn)
        bound = (
            normalize_mobile(bound_phone, field="bound_phone") if bound_phone else None
        )
        async with self._db.transaction() as session:
            await _get(session, Person, person_id, "person")
            number = await self._number(session, msisdn, is_sub_number)
            if bound is not None:
                number.bound_phone = bound
            if service_ends_on is not None:
                number.service_ends_on = service_ends_on
            await self._own(session, number, person_id, default_at_bureau, actor)
        return number

    async def add_account(
        self,
        tenant_id: int,
        person_id: int,
        msisdn: str,
        services: list[Service],
        login_type: str = "sub_number",
        actor: str = "cli",
    ) -> Account:
        if login_type not in LOGIN_TYPES:
            raise InvalidInput(
                f"{login_type!r} is not one of {LOGIN_TYPES}", field="login_type"
            )
        if not services:
            raise InvalidInput(
                "an account must serve at least one enterprise", field="services"
            )
        msisdn = normalize_mobile(msisdn, field="account")

        async with self._db.transaction() as session:
            person = await _get(session, Person, person_id, "person")
            number = await self._owned_number(session, msisdn, person)
            account = Account(
                tenant_id=tenant_id,
                person_id=person_id,
                number_id=number.id,
                login_type=login_type,
                created_at=self._clock.now(),
            )
            session.add(account)
            await session.flush()
            for index, service in enumerate(services):
                await self._serve(session, account, service, f"services.{index}")
            record(
                session,
                self._clock,
                actor=actor,
                action="account.add",
                subject=f"account:{account.id}",
                detail=f"person:{person_id} number:{msisdn}",
            )
        return account

    async def _serve(
        self, session: AsyncSession, account: Account, service: Service, field: str
    ) -> None:
        tax_id = validate_tax_id(service.tax_id, field=f"{field}.tax_id")
        enterprise = await session.scalar(
            select(Enterprise).where(
                Enterprise.tenant_id == account.tenant_id, Enterprise.tax_id == tax_id
            )
        )
        if enterprise is None:
            raise InvalidInput(
                f"{tax_id} is not an enterprise of this tenant", field=f"{field}.tax_id"
            )
        session.add(
            AccountEnterprise(
                account_id=account.id,
                enterprise_id=enterprise.id,
                identity_code=validate_identity(
                    service.identity_code, f"{field}.identity_code"
                ),
                default_business=validate_business(
                    service.default_business, f"{field}.default_business"
                ),
                is_default=service.is_default,
            )
        )

    async def _number(self, session: AsyncSession, msisdn: str, is_sub: bool) -> Number:
        number = await session.scalar(select(Number).where(Number.msisdn == msisdn))
        if number is None:
            number = Number(
                msisdn=msisdn, is_sub_number=is_sub, created_at=self._clock.now()
            )
            session.add(number)
            await session.flush()
        return number

    async def _own(
        self,
        session: AsyncSession,
        number: Number,
        person_id: int,
        default_at_bureau: bool,
        actor: str,
    ) -> None:
        owner = await session.scalar(
            select(PersonNumber).where(PersonNumber.number_id == number.id)
        )
        if owner is None:
            session.add(
                PersonNumber(
                    number_id=number.id,
                    person_id=person_id,
                    default_at_bureau=default_at_bureau,
                    added_at=self._clock.now(),
                )
            )
            record(
                session,
                self._clock,
                actor=actor,
                action="number.owner_set",
                subject=f"number:{number.msisdn}",
                detail=f"person:{person_id}",
            )
            return

        previous = owner.person_id
        owner.person_id = person_id
        owner.default_at_bureau = default_at_bureau
        owner.added_at = self._clock.now()
        if previous != person_id:
            record(
                session,
                self._clock,
                actor=actor,
                action="number.owner_moved",
                subject=f"number:{number.msisdn}",
                detail=f"person:{previous} -> person:{person_id}",
            )

    async def _owned_number(
        self, session: AsyncSession, msisdn: str, person: Person
    ) -> Number:
        number = await session.scalar(select(Number).where(Number.msisdn == msisdn))
        owner = None
        if number is not None:
            owner = await session.scalar(
                select(PersonNumber.person_id).where(
                    PersonNumber.number_id == number.id
                )
            )
        if number is None or owner != person.id:
            raise InvalidInput(
                f"{msisdn} is not a number of {person.name} at the bureau",
                field="account",
            )
        return number


async def _get(session: AsyncSession, model: type[_T], key: int, what: str) -> _T:
    found = await session.get(model, key)
    if found is None:
        raise NotFound(f"no {what} {key}")
    return found
