"""Adding and changing enterprises, persons, their numbers and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import select, update
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
from banshui.accounts.tenants import BoundForAnotherEnterprise
from banshui.accounts.uscc import region_of, validate_region, validate_tax_id
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.vault import Vault
from banshui.numbers.models import Number
from banshui.numbers.phones import normalize_mobile
from banshui.sync.changes import publishing_changes
from banshui.sync.listing import (
    AccountView,
    Entry,
    account_view,
    accounts_serving,
    listing,
)

PASSWORD_PURPOSE = "tax-password"
PROVIDER_SECRET_PURPOSE = "provider-app-secret"
_T = TypeVar("_T")
LOGIN_TYPES = ("sub_number", "phone")


@dataclass(frozen=True, slots=True)
class Service:
    """An enterprise an account is to serve, as the 新增 form gives it."""

    tax_id: str
    identity_code: str
    default_business: str
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class NumberHeld:
    """A number the bureau has on a person, and whether it is their 默认手机号."""

    number: str
    is_sub_number: bool
    default_at_bureau: bool


@dataclass(frozen=True, slots=True)
class AccountHeld:
    id: int
    number: str


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as the registry shows them; the password never leaves the vault."""

    id: int
    name: str
    id_number: str
    numbers: list[NumberHeld]
    accounts: list[AccountHeld]


class Registry:
    """The login side's registry; every write is validated first and audited."""

    def __init__(self, db: Database, vault: Vault, clock: Clock) -> None:
        self._db = db
        self._vault = vault
        self._clock = clock

    async def add_enterprise(
        self,
        tenant_id: int,
        tax_id: str,
        name: str,
        region: str | None = None,
        actor: str = "api",
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
            await session.flush()
            record(
                session,
                self._clock,
                actor=actor,
                action="enterprise.add",
                subject=f"enterprise:{enterprise.id}",
                detail=f"tax_id:{compact} region:{chosen}",
            )
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
            # One natural person is one row of a tenant: a second would get
            # lanes, sessions and a password of its own (R2, R4).
            await _not_enrolled(session, tenant_id, person.id_number)
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
            on_number = await session.scalars(
                select(Account.id).where(Account.number_id == number.id)
            )
            async with publishing_changes(session, self._clock, list(on_number)):
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
        *,
        provider_url: str | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
    ) -> Account:
        """An account; with a provider URL its codes are claimed at that provider."""
        if login_type not in LOGIN_TYPES:
            raise InvalidInput(
                f"{login_type!r} is not one of {LOGIN_TYPES}", field="login_type"
            )
        if not services:
            raise InvalidInput(
                "an account must serve at least one enterprise", field="services"
            )
        msisdn = normalize_mobile(msisdn, field="account")
        hosted = self._hosted_elsewhere(provider_url, app_key, app_secret)

        async with self._db.transaction() as session:
            person = await _get(session, Person, person_id, "person")
            number = await self._owned_number(session, msisdn, person)
            account = Account(
                tenant_id=tenant_id,
                person_id=person_id,
                number_id=number.id,
                login_type=login_type,
                created_at=self._clock.now(),
                **hosted,
            )
            session.add(account)
            await session.flush()
            async with publishing_changes(session, self._clock, [account.id]):
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

    def _hosted_elsewhere(
        self, url: str | None, app_key: str | None, app_secret: str | None
    ) -> dict[str, str | None]:
        """The provider columns of an account, all three given or none."""
        given = {"provider_url": url, "app_key": app_key, "app_secret": app_secret}
        if not any(given.values()):
            return {}
        for field, value in given.items():
            if not value or not value.strip():
                raise InvalidInput(
                    "a number hosted elsewhere needs provider_url, app_key and "
                    "app_secret",
                    field=field,
                )
        assert url is not None and app_key is not None and app_secret is not None
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(
                "must start with http:// or https://", field="provider_url"
            )
        return {
            "provider_url": url.strip().rstrip("/"),
            "provider_app_key": app_key.strip(),
            "provider_app_secret_sealed": self._vault.seal(
                app_secret, PROVIDER_SECRET_PURPOSE
            ),
        }

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
        # A move between the tenant's persons keeps when the number came to the
        # tenant: the SMS it has seen stay its to see (``seen_by``).
        if not await _same_tenant(session, previous, person_id):
            owner.added_at = self._clock.now()
        owner.person_id = person_id
        owner.default_at_bureau = default_at_bureau
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

    # The registry API's own writes: scoped to a tenant, one transaction each,
    # with their ``account.*`` events staged in that transaction.

    async def enrol_person(
        self, tenant_id: int, name: str, id_number: str, password: str, actor: str
    ) -> Person:
        """A new person of the tenant; one natural person is enrolled once."""
        if not name.strip():
            raise InvalidInput("must not be empty", field="name")
        compact = validate_id_number(id_number)
        if not password:
            raise InvalidInput("must not be empty", field="password")

        person = Person(
            tenant_id=tenant_id,
            name=name.strip(),
            id_number=compact,
            password_sealed=self._vault.seal(password, PASSWORD_PURPOSE),
            created_at=self._clock.now(),
        )
        async with self._db.transaction() as session:
            await _not_enrolled(session, tenant_id, compact)
            session.add(person)
            await session.flush()
            record(
                session,
                self._clock,
                actor=actor,
                action="person.add",
                subject=f"person:{person.id}",
                detail=f"tenant:{tenant_id}",
            )
        return person

    async def change_password(
        self, tenant_id: int, person_id: int, password: str, actor: str
    ) -> None:
        """R2 for one tenant's person: all of their accounts log in with it."""
        await self.person_of(tenant_id, person_id)
        await self.set_password(person_id, password, actor)

    async def give_number_in_tenant(
        self,
        tenant_id: int,
        person_id: int,
        msisdn: str,
        *,
        default_at_bureau: bool,
        is_sub_number: bool,
        actor: str,
    ) -> Number:
        """R1 within a tenant: the number moves here from whoever had it."""
        msisdn = normalize_mobile(msisdn)
        async with self._db.transaction() as session:
            person = await _person_in(session, tenant_id, person_id)
            number = await self._number(session, msisdn, is_sub_number)
            await _not_held_elsewhere(session, number, tenant_id)
            on_number = await session.scalars(
                select(Account.id).where(
                    Account.tenant_id == tenant_id, Account.number_id == number.id
                )
            )
            async with publishing_changes(session, self._clock, list(on_number)):
                await self._own(session, number, person.id, default_at_bureau, actor)
                if default_at_bureau:
                    await _only_default_phone(session, person.id, number.id)
        return number

    async def serve_enterprise(
        self,
        tenant_id: int,
        tax_id: str,
        *,
        login_type: str,
        msisdn: str,
        identity_code: str,
        default_business: str,
        is_default: bool,
        actor: str,
        provider_url: str | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
    ) -> Account:
        """The 新增 form: the enterprise joins the account of this number's owner.

        The account (that person logging in with that number) is made when it
        does not exist yet; a provider's appKey/appSecret go with a new account.
        """
        if login_type not in LOGIN_TYPES:
            raise InvalidInput(
                f"{login_type!r} is not one of {LOGIN_TYPES}", field="login_type"
            )
        msisdn = normalize_mobile(msisdn, field="account")
        validate_identity(identity_code)
        validate_business(default_business, "default_business")
        hosted = self._hosted_elsewhere(provider_url, app_key, app_secret)

        async with self._db.transaction() as session:
            enterprise = await _enterprise_in(session, tenant_id, tax_id)
            number, owner = await _tenant_number(session, msisdn, tenant_id)
            _fits_login_type(number, login_type)
            account = await _account_on(session, tenant_id, owner.id, number.id)
            await _may_serve(session, account, enterprise, login_type, hosted)
            serving = await accounts_serving(session, enterprise.id)
            async with publishing_changes(session, self._clock, serving) as watched:
                if account is None:
                    account = Account(
                        tenant_id=tenant_id,
                        person_id=owner.id,
                        number_id=number.id,
                        login_type=login_type,
                        created_at=self._clock.now(),
                        **hosted,
                    )
                    await _added(session, account)
                watched.add(account.id)
                await _add_service(
                    session, account, enterprise, identity_code, default_business
                )
                if is_default:
                    await _make_default(session, account.id, enterprise.id)
                record(
                    session,
                    self._clock,
                    actor=actor,
                    action="account.serve",
                    subject=f"account:{account.id}",
                    detail=f"enterprise:{enterprise.tax_id} number:{msisdn} "
                    f"identity:{identity_code} business:{default_business}",
                )
        return account

    async def change_service(
        self,
        tenant_id: int,
        tax_id: str,
        account_id: int,
        *,
        default_business: str | None = None,
        is_default: bool | None = None,
        actor: str,
    ) -> None:
        """Set the default account or default business (数电配置) of an enterprise."""
        if default_business is None and is_default is None:
            raise InvalidInput("give default_business or is_default to change")
        if default_business is not None:
            validate_business(default_business, "default_business")

        async with self._db.transaction() as session:
            enterprise = await _enterprise_in(session, tenant_id, tax_id)
            service = await _service_of(session, enterprise, account_id)
            serving = await accounts_serving(session, enterprise.id)
            async with publishing_changes(session, self._clock, serving):
                if default_business is not None:
                    service.default_business = default_business
                if is_default is not None:
                    service.is_default = is_default
                await session.flush()
                if service.is_default:
                    await _make_default(session, account_id, enterprise.id)
                record(
                    session,
                    self._clock,
                    actor=actor,
                    action="account.change",
                    subject=f"account:{account_id}",
                    detail=f"enterprise:{enterprise.tax_id} "
                    f"business:{service.default_business} "
                    f"default:{service.is_default}",
                )

    async def stop_serving(
        self, tenant_id: int, tax_id: str, account_id: int, actor: str
    ) -> None:
        """The account no longer logs in for the enterprise; it stays for others."""
        async with self._db.transaction() as session:
            enterprise = await _enterprise_in(session, tenant_id, tax_id)
            service = await _service_of(session, enterprise, account_id)
            async with publishing_changes(session, self._clock, [account_id]):
                await session.delete(service)
                record(
                    session,
                    self._clock,
                    actor=actor,
                    action="account.stop_serving",
                    subject=f"account:{account_id}",
                    detail=f"enterprise:{enterprise.tax_id}",
                )

    # Reading, scoped to a tenant: another tenant's object is as missing as none.

    async def enterprises_of(self, tenant_id: int) -> list[Enterprise]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(Enterprise)
                .where(Enterprise.tenant_id == tenant_id)
                .order_by(Enterprise.tax_id)
            )
            return list(rows)

    async def enterprise_of(self, tenant_id: int, tax_id: str) -> Enterprise:
        async with self._db.session() as session:
            return await _enterprise_in(session, tenant_id, tax_id)

    async def persons_of(self, tenant_id: int) -> list[PersonRecord]:
        async with self._db.session() as session:
            people = list(
                await session.scalars(
                    select(Person)
                    .where(Person.tenant_id == tenant_id)
                    .order_by(Person.id)
                )
            )
            return [await _record_of(session, person) for person in people]

    async def person_of(self, tenant_id: int, person_id: int) -> PersonRecord:
        async with self._db.session() as session:
            person = await _person_in(session, tenant_id, person_id)
            return await _record_of(session, person)

    async def listing_of(self, tenant_id: int, tax_id: str) -> list[Entry]:
        """The accounts ERPs pull for an enterprise (R8 issuer, R9 warnings)."""
        async with self._db.session() as session:
            return await listing(
                session, await _enterprise_in(session, tenant_id, tax_id)
            )

    async def account_of(self, tenant_id: int, account_id: int) -> AccountView:
        async with self._db.session() as session:
            account = await _account_in(session, tenant_id, account_id)
            return await account_view(session, account)


async def _get(session: AsyncSession, model: type[_T], key: int, what: str) -> _T:
    found = await session.get(model, key)
    if found is None:
        raise NotFound(f"no {what} {key}")
    return found


async def _not_enrolled(session: AsyncSession, tenant_id: int, id_number: str) -> None:
    taken = await session.scalar(
        select(Person.id).where(
            Person.tenant_id == tenant_id, Person.id_number == id_number
        )
    )
    if taken:
        raise Conflict(f"person {taken} has this ID number already", field="id_number")


async def _person_in(session: AsyncSession, tenant_id: int, person_id: int) -> Person:
    found = await session.get(Person, person_id)
    if found is None or found.tenant_id != tenant_id:
        raise NotFound(f"no person {person_id}")
    return found


async def _account_in(
    session: AsyncSession, tenant_id: int, account_id: int
) -> Account:
    found = await session.get(Account, account_id)
    if found is None or found.tenant_id != tenant_id:
        raise NotFound(f"no account {account_id}")
    return found


async def _enterprise_in(
    session: AsyncSession, tenant_id: int, tax_id: str
) -> Enterprise:
    wanted = tax_id.strip().upper()
    found = await session.scalar(
        select(Enterprise).where(
            Enterprise.tenant_id == tenant_id, Enterprise.tax_id == wanted
        )
    )
    if found is None:
        raise NotFound(f"no enterprise {wanted}")
    return found


async def _same_tenant(session: AsyncSession, one: int, other: int) -> bool:
    tenants = await session.scalars(
        select(Person.tenant_id).where(Person.id.in_((one, other))).distinct()
    )
    return len(list(tenants)) == 1


async def _not_held_elsewhere(
    session: AsyncSession, number: Number, tenant_id: int
) -> None:
    """R1 moves a number between persons of one tenant, never out of another:
    nor a sub-number bound for another tenant's enterprise (its SMS are that
    tenant's until it is unbound), nor one bound for a 税号 of no enterprise of
    this tenant."""
    holder = await session.scalar(
        select(Person.tenant_id)
        .join(PersonNumber, PersonNumber.person_id == Person.id)
        .where(PersonNumber.number_id == number.id)
    )
    if holder is not None and holder != tenant_id:
        raise Conflict(
            f"{number.msisdn} belongs to a person of another tenant", field="number"
        )
    if number.tenant_id not in (None, tenant_id):
        raise Conflict(
            f"{number.msisdn} is bound for an enterprise of another tenant",
            field="number",
        )
    await _has_its_enterprise(session, number, tenant_id)


async def _has_its_enterprise(
    session: AsyncSession, number: Number, tenant_id: int
) -> None:
    """A sub-number bound for a 税号 goes to a tenant with that enterprise, or to
    the one it is bound for: giving it proves nothing, so without this any
    tenant could take one bound for no tenant yet."""
    if number.tax_id is None or number.tenant_id == tenant_id:
        return
    has_it = await session.scalar(
        select(Enterprise.id).where(
            Enterprise.tenant_id == tenant_id, Enterprise.tax_id == number.tax_id
        )
    )
    if has_it is None:
        raise BoundForAnotherEnterprise(
            f"{number.msisdn} is bound for an enterprise this tenant does not have",
            field="number",
        )


async def _tenant_number(
    session: AsyncSession, msisdn: str, tenant_id: int
) -> tuple[Number, Person]:
    """The number and the tenant's person who has it at the bureau."""
    row = (
        await session.execute(
            select(Number, Person)
            .join(PersonNumber, PersonNumber.number_id == Number.id)
            .join(Person, Person.id == PersonNumber.person_id)
            .where(Number.msisdn == msisdn, Person.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        raise InvalidInput(
            f"{msisdn} is not a number of any person of this tenant; "
            "give it to the person first",
            field="account",
        )
    number, owner = row
    return number, owner


async def _account_on(
    session: AsyncSession, tenant_id: int, person_id: int, number_id: int
) -> Account | None:
    return await session.scalar(
        select(Account)
        .where(
            Account.tenant_id == tenant_id,
            Account.person_id == person_id,
            Account.number_id == number_id,
        )
        .order_by(Account.id)
        .limit(1)
    )


def _fits_login_type(number: Number, login_type: str) -> None:
    if login_type == "sub_number" and not number.is_sub_number:
        raise InvalidInput(
            f"{number.msisdn} is not a sub-number, so its login type is phone",
            field="login_type",
        )


async def _may_serve(
    session: AsyncSession,
    account: Account | None,
    enterprise: Enterprise,
    login_type: str,
    hosted: dict[str, str | None],
) -> None:
    """An existing account takes another enterprise only as it is."""
    if account is None:
        return
    if account.login_type != login_type:
        raise Conflict(
            f"account {account.id} on this number logs in as {account.login_type}",
            field="login_type",
        )
    if hosted and (account.provider_url, account.provider_app_key) != (
        hosted["provider_url"],
        hosted["provider_app_key"],
    ):
        raise Conflict(
            f"account {account.id} on this number has other provider credentials",
            field="app_key",
        )
    served = await session.scalar(
        select(AccountEnterprise.id).where(
            AccountEnterprise.account_id == account.id,
            AccountEnterprise.enterprise_id == enterprise.id,
        )
    )
    if served:
        raise Conflict(
            f"account {account.id} serves {enterprise.tax_id} already",
            field="account",
        )


async def _added(session: AsyncSession, account: Account) -> None:
    session.add(account)
    await session.flush()


async def _add_service(
    session: AsyncSession,
    account: Account,
    enterprise: Enterprise,
    identity_code: str,
    default_business: str,
) -> None:
    session.add(
        AccountEnterprise(
            account_id=account.id,
            enterprise_id=enterprise.id,
            identity_code=identity_code,
            default_business=default_business,
            is_default=False,
        )
    )
    await session.flush()


async def _service_of(
    session: AsyncSession, enterprise: Enterprise, account_id: int
) -> AccountEnterprise:
    found = await session.scalar(
        select(AccountEnterprise).where(
            AccountEnterprise.account_id == account_id,
            AccountEnterprise.enterprise_id == enterprise.id,
        )
    )
    if found is None:
        raise NotFound(f"account {account_id} does not serve {enterprise.tax_id}")
    return found


async def _make_default(
    session: AsyncSession, account_id: int, enterprise_id: int
) -> None:
    """One default account per enterprise and business: the others lose it."""
    service = await session.scalar(
        select(AccountEnterprise).where(
            AccountEnterprise.account_id == account_id,
            AccountEnterprise.enterprise_id == enterprise_id,
        )
    )
    assert service is not None
    service.is_default = True
    await session.execute(
        update(AccountEnterprise)
        .where(
            AccountEnterprise.enterprise_id == enterprise_id,
            AccountEnterprise.default_business == service.default_business,
            AccountEnterprise.account_id != account_id,
        )
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )


async def _only_default_phone(
    session: AsyncSession, person_id: int, number_id: int
) -> None:
    """The bureau has one 默认手机号 per person."""
    await session.execute(
        update(PersonNumber)
        .where(PersonNumber.person_id == person_id, PersonNumber.number_id != number_id)
        .values(default_at_bureau=False)
        .execution_options(synchronize_session="fetch")
    )


async def _record_of(session: AsyncSession, person: Person) -> PersonRecord:
    numbers = await session.execute(
        select(Number.msisdn, Number.is_sub_number, PersonNumber.default_at_bureau)
        .join(PersonNumber, PersonNumber.number_id == Number.id)
        .where(PersonNumber.person_id == person.id)
        .order_by(Number.msisdn)
    )
    accounts = await session.execute(
        select(Account.id, Number.msisdn)
        .join(Number, Number.id == Account.number_id)
        .where(Account.person_id == person.id)
        .order_by(Account.id)
    )
    return PersonRecord(
        id=person.id,
        name=person.name,
        id_number=person.id_number,
        numbers=[NumberHeld(*row) for row in numbers],
        accounts=[AccountHeld(*row) for row in accounts],
    )
