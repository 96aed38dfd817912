"""Customers of the number side and their appKey/appSecret (shown once, sealed)."""

from __future__ import annotations

import hmac
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select

from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput, Unauthorized
from banshui.core.vault import Vault
from banshui.numbers.models import Customer

SECRET_PURPOSE = "customer-secret"
APP_KEY_LENGTH = 12
APP_SECRET_LENGTH = 40
# Upper case and digits, as the guide's example credentials are: easy to read aloud.
_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True, slots=True)
class NewCustomer:
    customer: Customer
    app_secret: str


async def add_customer(
    db: Database, vault: Vault, clock: Clock, name: str, actor: str = "cli"
) -> NewCustomer:
    """A new customer; its appSecret is sealed and never shown again."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("must be 1–200 characters", field="name")

    app_secret = _random(APP_SECRET_LENGTH)
    customer = Customer(
        name=name,
        app_key=_random(APP_KEY_LENGTH),
        app_secret_sealed=vault.seal(app_secret, SECRET_PURPOSE),
        created_at=clock.now(),
    )
    async with db.transaction() as session:
        if await session.scalar(select(Customer.id).where(Customer.name == name)):
            raise Conflict(f"a customer named {name!r} exists already", field="name")
        session.add(customer)
        record(
            session,
            clock,
            actor=actor,
            action="customer.add",
            subject=name,
            detail=f"app_key:{customer.app_key}",
        )
    return NewCustomer(customer=customer, app_secret=app_secret)


async def list_customers(db: Database) -> list[Customer]:
    async with db.session() as session:
        found = await session.scalars(select(Customer).order_by(Customer.id))
        return list(found)


async def customer_for_key(db: Database, app_key: str) -> Customer | None:
    async with db.session() as session:
        customer: Customer | None = await session.scalar(
            select(Customer).where(Customer.app_key == app_key.strip())
        )
    return customer


def secret_matches(vault: Vault, customer: Customer, app_secret: str) -> bool:
    """Compared in constant time, so the answer's timing says nothing of it."""
    stored = vault.open(customer.app_secret_sealed, SECRET_PURPOSE)
    return hmac.compare_digest(stored.encode(), app_secret.strip().encode())


async def authenticate(
    db: Database, vault: Vault, app_key: str, app_secret: str
) -> Customer:
    """The customer these credentials belong to; one refusal for either mistake."""
    customer = await customer_for_key(db, app_key)
    if customer is None or not secret_matches(vault, customer, app_secret):
        raise Unauthorized("the appKey and appSecret do not match a customer")
    return customer


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
