"""Sub-numbers hosted at another provider: their codes are claimed there, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from banshui.accounts.models import Account, Person
from banshui.accounts.service import Registry, Service
from banshui.core.errors import InvalidInput
from banshui.demo.cast import S1, ZHANG_SAN, A
from banshui.login.codes import CodeSources
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from banshui.provider.client import RemoteCodes
from banshui.runtime import build_runtime
from banshui.sms.models import CodeExpectation

from .conftest import Sandbox, inbox_rows, served, violations


async def _zhang(sandbox: Sandbox) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(
            select(Person.id).where(Person.name == ZHANG_SAN.name)
        )
    assert found is not None
    return found


async def _hosted_account(sandbox: Sandbox) -> tuple[int, str]:
    """S1 hosted at a provider: here, this very banshui's provider API."""
    runtime = sandbox.stack.runtime
    made = await add_customer(runtime.db, runtime.vault, runtime.clock, "发票云")
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Number)
            .where(Number.msisdn == S1)
            .values(customer_id=made.customer.id)
        )
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    account = await registry.add_account(
        sandbox.tenant_id,
        await _zhang(sandbox),
        S1,
        [Service(A.tax_id, "03", "receive")],
        actor="test",
        provider_url=sandbox.stack.url,
        app_key=made.customer.app_key,
        app_secret=made.app_secret,
    )
    return account.id, made.app_secret


async def test_a_hosted_number_reads_its_code_through_the_provider_api(
    sandbox: Sandbox,
) -> None:
    account_id, _secret = await _hosted_account(sandbox)

    login = await served(sandbox, A, account_id=account_id)

    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        S1,
        1,
    )
    (sms,) = await inbox_rows(sandbox, S1)
    assert (sms.claimed_by or "").startswith("customer:")
    async with sandbox.stack.runtime.db.session() as session:
        expected = await session.scalar(
            select(func.count()).select_from(CodeExpectation)
        )
    assert expected == 0  # no local expectation: the provider hands the code out
    assert (await violations(sandbox))["code_reused"] == 0


async def test_codes_asked_on_a_hosted_number_still_count_after_a_restart(
    sandbox: Sandbox,
) -> None:
    account_id, _secret = await _hosted_account(sandbox)
    login = await served(sandbox, A, account_id=account_id)
    assert (login["status"], login["sms_used"]) == ("succeeded", 1)

    # A process started afterwards on the same database knows nothing in memory.
    restarted = build_runtime(sandbox.stack.settings, sandbox.stack.runtime.clock)
    sources = CodeSources(
        restarted.db, restarted.vault, restarted.clock, restarted.inbox
    )
    try:
        source = await sources.of(S1)
        spent = await source.spent_today(S1)
    finally:
        await sources.close()
        await restarted.close()

    assert isinstance(source, RemoteCodes)
    assert spent == 1


async def test_the_app_secret_of_a_hosted_account_is_sealed(sandbox: Sandbox) -> None:
    account_id, secret = await _hosted_account(sandbox)

    async with sandbox.stack.runtime.db.session() as session:
        account = await session.get(Account, account_id)
    assert account is not None
    assert account.provider_url == sandbox.stack.url
    sealed = account.provider_app_secret_sealed or ""
    assert sealed and secret not in sealed


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"provider_url": "https://provider.example"}, "app_key"),
        ({"app_key": "k", "app_secret": "s"}, "provider_url"),
        (
            {"provider_url": "ftp://x", "app_key": "k", "app_secret": "s"},
            "provider_url",
        ),
    ],
)
async def test_a_hosted_account_needs_url_key_and_secret(
    sandbox: Sandbox, given: dict[str, str], field: str
) -> None:
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)

    with pytest.raises(InvalidInput) as refused:
        await registry.add_account(
            sandbox.tenant_id,
            await _zhang(sandbox),
            S1,
            [Service(A.tax_id, "03", "receive")],
            **given,
        )

    assert refused.value.field == field
