"""Binding a sub-number to its customer, bound real phone and enterprise.

The number side knows the enterprise only by the 税号 the customer gave; the
caller validates it as a 统一社会信用代码 and says which tenant's enterprise it
is (a face may, the number side does not import the login side). That tenant,
not the tax id, is whom the binding shows the number's SMS to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.audit.log import record
from banshui.core.clock import Clock, shanghai_day
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.upsert import insert_ignoring_conflict
from banshui.numbers.models import Customer, Number
from banshui.numbers.phones import mask, normalize_mobile

PROVIDER = "banshui"
WARNING_DAYS = 30
MAX_WARNING_DAYS = 3650


class UnknownNumber(NotFound):
    """banshui has no such number."""


class NotASubNumber(InvalidInput):
    """The number is recorded as a real phone, so it cannot be sold as a 小号."""


class BoundElsewhere(Conflict):
    """The sub-number is bound to another customer: unbind it first."""


class NotBound(Conflict):
    """The sub-number has no binding to undo."""


class SameAsBoundPhone(InvalidInput):
    """A sub-number cannot forward to itself."""


class BoundPhoneIsASubNumber(InvalidInput):
    """The real phone given is one of banshui's sub-numbers: no person carries it."""


class AlreadyBound(Conflict):
    """The sub-number forwards to another real phone or serves another enterprise
    (or the same tax id of another tenant).

    Changing that is only done when asked for in so many words (``replace``),
    so a typo in a command cannot silently take a person's phone off it.
    """

    def __init__(self, message: str, *, bound_phone: str | None, tax_id: str | None):
        super().__init__(message, field="number")
        self.bound_phone = bound_phone
        self.tax_id = tax_id


@dataclass(frozen=True, slots=True)
class NumberView:
    """A number with its binding and the service-end warning as of today."""

    number: str
    is_sub_number: bool
    provider: str | None
    customer_id: int | None
    customer: str | None
    bound_phone: str | None
    tax_id: str | None
    service_ends_on: date | None
    days_left: int | None
    warning: str | None

    @property
    def is_bound(self) -> bool:
        return (self.customer_id, self.bound_phone, self.tax_id) != (None, None, None)


@dataclass(frozen=True, slots=True)
class Bound:
    view: NumberView
    changed: bool


async def bind(
    db: Database,
    clock: Clock,
    *,
    number: str,
    customer_id: int,
    bound_phone: str,
    tax_id: str,
    tenant_id: int | None,
    actor: str,
    replace: bool = False,
) -> Bound:
    """Bind the sub-number (made if banshui did not know it); audited if it changed.

    ``tenant_id`` is the tenant whose enterprise ``tax_id`` is (None: no
    tenant's yet). A binding to another real phone or enterprise is replaced
    only with ``replace``; without it the command is refused and nothing changes.
    """
    msisdn = normalize_mobile(number, field="number")
    phone = normalize_mobile(bound_phone, field="bound_phone")
    if phone == msisdn:
        raise SameAsBoundPhone(
            "the sub-number cannot be its own bound phone", field="number"
        )
    _check_tax_id_shape(tax_id)

    async with db.transaction() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}", field="customer_id")
        await _not_a_persons_phone(session, msisdn)
        await _not_a_sub_number(session, phone)
        row = await _sub_number(session, clock, msisdn)
        if row.customer_id not in (None, customer.id):
            raise BoundElsewhere(
                f"{msisdn} is bound to another customer: unbind it first",
                field="number",
            )
        if not replace:
            _not_bound_otherwise(row, phone, tax_id, tenant_id)

        before = (row.customer_id, row.bound_phone, row.tax_id)
        changed = before != (customer.id, phone, tax_id) or row.tenant_id != tenant_id
        row.customer_id, row.bound_phone, row.tax_id = customer.id, phone, tax_id
        _for_tenant(row, tenant_id, clock)
        row.provider = row.provider or PROVIDER
        if changed:
            _audit_binding(session, clock, actor, row, before)
        view = _view(row, customer.name, shanghai_day(clock.now()), WARNING_DAYS)
    return Bound(view=view, changed=changed)


def _for_tenant(row: Number, tenant_id: int | None, clock: Clock) -> None:
    """The binding is for this tenant; one it was not for before starts now."""
    if row.tenant_id != tenant_id:
        # The SMS the number received before are not the new tenant's to see.
        row.bound_since = clock.now() if tenant_id is not None else None
    row.tenant_id = tenant_id


async def _not_a_persons_phone(session: AsyncSession, msisdn: str) -> None:
    """A number some sub-number forwards to is a person's handset, not a 小号."""
    forwarding = await session.scalar(
        select(Number.msisdn).where(Number.bound_phone == msisdn).limit(1)
    )
    if forwarding is not None and forwarding != msisdn:
        raise NotASubNumber(
            f"{msisdn} is the bound real phone of sub-number {forwarding}, "
            "not a sub-number",
            field="number",
        )


async def _not_a_sub_number(session: AsyncSession, phone: str) -> None:
    is_sub = await session.scalar(
        select(Number.is_sub_number).where(Number.msisdn == phone)
    )
    if is_sub:
        raise BoundPhoneIsASubNumber(
            f"{mask(phone)} is a sub-number, not a person's real phone",
            field="bound_phone",
        )


def _not_bound_otherwise(
    row: Number, phone: str, tax_id: str, tenant_id: int | None
) -> None:
    other_phone = row.bound_phone not in (None, phone)
    other_tax_id = row.tax_id not in (None, tax_id)
    # Bound for no tenant yet is settled by binding again; another's is a change.
    other_tenant = row.tenant_id not in (None, tenant_id)
    if other_phone or other_tax_id or other_tenant:
        raise AlreadyBound(
            f"{row.msisdn} is bound already ({_described(row.bound_phone, row.tax_id)})"
            ": unbind it first, or replace the binding",
            bound_phone=row.bound_phone,
            tax_id=row.tax_id,
        )


def _audit_binding(
    session: AsyncSession,
    clock: Clock,
    actor: str,
    row: Number,
    before: tuple[int | None, str | None, str | None],
) -> None:
    """``number.bound``, or ``number.rebound`` with what the binding was."""
    _, old_phone, old_tax_id = before
    replaced = (old_phone, old_tax_id) not in (
        (None, None),
        (row.bound_phone, row.tax_id),
    )
    detail = f"customer:{row.customer_id} {_described(row.bound_phone, row.tax_id)}"
    detail += f" tenant:{row.tenant_id or '-'}"
    if replaced:
        detail += f" (was {_described(old_phone, old_tax_id)})"
    record(
        session,
        clock,
        actor=actor,
        action="number.rebound" if replaced else "number.bound",
        subject=f"number:{row.msisdn}",
        detail=detail,
    )


def _described(phone: str | None, tax_id: str | None) -> str:
    return f"phone:{mask(phone) if phone else '-'} tax_id:{tax_id or '-'}"


async def unbind(db: Database, clock: Clock, *, number: str, actor: str) -> NumberView:
    """Clear customer, bound phone and tax id; the binding as it was comes back.

    The service end date stays: it belongs to the number, not to the binding.
    """
    msisdn = normalize_mobile(number, field="number")

    async with db.transaction() as session:
        row = await _existing(session, msisdn, lock=True)
        name = await _customer_name(session, row.customer_id)
        previous = _view(row, name, shanghai_day(clock.now()), WARNING_DAYS)
        if not previous.is_bound:
            raise NotBound(f"{msisdn} is not bound", field="number")

        row.customer_id, row.bound_phone, row.tax_id = None, None, None
        row.tenant_id, row.bound_since = None, None
        record(
            session,
            clock,
            actor=actor,
            action="number.unbound",
            subject=f"number:{msisdn}",
            detail=f"customer:{previous.customer_id} tax_id:{previous.tax_id}",
        )
    return previous


async def set_service_end(
    db: Database, clock: Clock, *, number: str, ends_on: date | None, actor: str
) -> NumberView:
    """Set (or clear) the day the sub-number's service ends; audited."""
    msisdn = normalize_mobile(number, field="number")

    async with db.transaction() as session:
        row = await _existing(session, msisdn, lock=True)
        row.service_ends_on = ends_on
        record(
            session,
            clock,
            actor=actor,
            action="number.service_end_set",
            subject=f"number:{msisdn}",
            detail=ends_on.isoformat() if ends_on else "cleared",
        )
        name = await _customer_name(session, row.customer_id)
        view = _view(row, name, shanghai_day(clock.now()), WARNING_DAYS)
    return view


async def describe(
    db: Database, clock: Clock, number: str, within_days: int = WARNING_DAYS
) -> NumberView:
    """The number's binding; ``UnknownNumber`` when banshui has no such number."""
    _check_days(within_days)
    msisdn = normalize_mobile(number, field="number")

    async with db.session() as session:
        row = await _existing(session, msisdn, lock=False)
        name = await _customer_name(session, row.customer_id)
    return _view(row, name, shanghai_day(clock.now()), within_days)


async def list_numbers(
    db: Database, clock: Clock, within_days: int = WARNING_DAYS
) -> list[NumberView]:
    """Every number banshui knows, by number, each with its warning."""
    _check_days(within_days)
    today = shanghai_day(clock.now())

    async with db.session() as session:
        rows = await session.execute(
            select(Number, Customer.name)
            .outerjoin(Customer, Customer.id == Number.customer_id)
            .order_by(Number.msisdn)
        )
        return [_view(row, name, today, within_days) for row, name in rows]


async def ending_soon(
    db: Database, clock: Clock, within_days: int = WARNING_DAYS
) -> list[NumberView]:
    """Numbers whose service ends within the days given (or has ended already)."""
    listed = await list_numbers(db, clock, within_days)
    return [view for view in listed if view.warning is not None]


def service_warning(ends_on: date | None, today: date, within_days: int) -> str | None:
    """The warning shown before (and after) the service end date, in Chinese."""
    if ends_on is None:
        return None

    days = (ends_on - today).days
    if days < 0:
        return f"服务已过期 {-days} 天"
    if days == 0:
        return "服务今天到期"
    if days <= within_days:
        return f"服务 {days} 天后到期"
    return None


async def _sub_number(session: AsyncSession, clock: Clock, msisdn: str) -> Number:
    # ON CONFLICT: two commands binding one new number at once make one row.
    values = {
        "msisdn": msisdn,
        "is_sub_number": True,
        "provider": PROVIDER,
        "pin_failures": 0,
        "created_at": clock.now(),
    }
    await insert_ignoring_conflict(session, Number, values)
    row = await _existing(session, msisdn, lock=True)
    if not row.is_sub_number:
        raise NotASubNumber(
            f"{msisdn} is recorded as a real phone, not a sub-number", field="number"
        )
    return row


async def _existing(session: AsyncSession, msisdn: str, *, lock: bool) -> Number:
    query = select(Number).where(Number.msisdn == msisdn)
    if lock:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise UnknownNumber(f"banshui has no number {msisdn}", field="number")
    return row


async def _customer_name(session: AsyncSession, customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    name: str | None = await session.scalar(
        select(Customer.name).where(Customer.id == customer_id)
    )
    return name


def _view(row: Number, customer: str | None, today: date, within: int) -> NumberView:
    ends_on = row.service_ends_on
    return NumberView(
        number=row.msisdn,
        is_sub_number=row.is_sub_number,
        provider=row.provider,
        customer_id=row.customer_id,
        customer=customer,
        bound_phone=row.bound_phone,
        tax_id=row.tax_id,
        service_ends_on=ends_on,
        days_left=(ends_on - today).days if ends_on else None,
        warning=service_warning(ends_on, today, within),
    )


def _check_tax_id_shape(tax_id: str) -> None:
    if len(tax_id) != 18 or not tax_id.isalnum():
        raise InvalidInput(
            "must be a validated 18-character 统一社会信用代码", field="tax_id"
        )


def _check_days(within_days: int) -> None:
    if not 0 <= within_days <= MAX_WARNING_DAYS:
        raise InvalidInput(
            f"must be between 0 and {MAX_WARNING_DAYS} days", field="within_days"
        )
