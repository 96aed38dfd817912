"""Customers of the number side: appKey and appSecret made once, the secret sealed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from banshui.core.errors import Conflict, InvalidInput, Unauthorized
from banshui.numbers.customers import (
    SECRET_PURPOSE,
    authenticate,
    list_customers,
    secret_matches,
)
from banshui.numbers.models import Customer
from banshui.runtime import Runtime
from chat.world import fresh_runtime, new_customer


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    async with fresh_runtime(tmp_path, database_url) as made:
        yield made


async def test_a_new_customer_gets_an_app_key_and_a_long_app_secret(
    runtime: Runtime,
) -> None:
    made = await new_customer(runtime)

    assert re.fullmatch(r"[A-Z0-9]{8,16}", made.customer.app_key)
    assert re.fullmatch(r"[A-Z0-9]{32,}", made.app_secret)
    assert made.customer.name == "示例号商"


async def test_the_app_secret_is_stored_sealed_for_its_purpose(
    runtime: Runtime,
) -> None:
    made = await new_customer(runtime)

    async with runtime.db.session() as session:
        stored = await session.scalar(select(Customer.app_secret_sealed))

    assert stored is not None
    assert made.app_secret not in stored
    assert runtime.vault.open(stored, SECRET_PURPOSE) == made.app_secret


async def test_only_the_customers_own_secret_matches(runtime: Runtime) -> None:
    made = await new_customer(runtime)
    other = await new_customer(runtime, "另一号商")

    assert secret_matches(runtime.vault, made.customer, made.app_secret)
    assert not secret_matches(runtime.vault, made.customer, other.app_secret)
    assert not secret_matches(runtime.vault, made.customer, made.app_secret[:-1])


async def test_authenticate_refuses_an_unknown_key_and_a_wrong_secret_alike(
    runtime: Runtime,
) -> None:
    made = await new_customer(runtime)

    found = await authenticate(
        runtime.db, runtime.vault, made.customer.app_key, made.app_secret
    )
    with pytest.raises(Unauthorized) as unknown:
        await authenticate(runtime.db, runtime.vault, "NOSUCHKEY", made.app_secret)
    with pytest.raises(Unauthorized) as wrong:
        await authenticate(runtime.db, runtime.vault, made.customer.app_key, "WRONG")

    assert found.id == made.customer.id
    assert unknown.value.message == wrong.value.message


async def test_a_second_customer_of_the_same_name_is_a_conflict_and_not_written(
    runtime: Runtime,
) -> None:
    await new_customer(runtime)

    with pytest.raises(Conflict) as refused:
        await new_customer(runtime)

    assert refused.value.field == "name"
    assert len(await list_customers(runtime.db)) == 1


@pytest.mark.parametrize("name", ["", "   ", "号" * 201])
async def test_a_blank_or_overlong_name_is_refused(runtime: Runtime, name: str) -> None:
    with pytest.raises(InvalidInput):
        await new_customer(runtime, name)
