"""The login side's provider client and its wait interface, against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from banshui.demo.cast import S1, S2
from banshui.provider.client import ProviderClient, ProviderError, RemoteCodes
from provider.conftest import Platform, Provider


def client_of(provider: Provider, platform: Platform) -> ProviderClient:
    return ProviderClient(provider.stack.url, platform.app_key, platform.app_secret)


@pytest.fixture
async def client(provider: Provider) -> AsyncIterator[ProviderClient]:
    async with client_of(provider, provider.fapiaoyun) as opened:
        yield opened


async def test_the_client_claims_a_code_once(
    provider: Provider, client: ProviderClient
) -> None:
    sms_id = await provider.receive("418207")
    after = provider.clock.now() - timedelta(minutes=1)

    first = await client.claim(S1, after)
    second = await client.claim(S1, after)

    assert first is not None
    assert (first.code, first.sms_id) == ("418207", sms_id)
    assert first.received_at == provider.clock.now()
    assert second is None


async def test_the_client_lists_the_latest_sms(
    provider: Provider, client: ProviderClient
) -> None:
    await provider.receive("418207")

    listed = await client.sms(S1, limit=5)

    assert [sms["code"] for sms in listed] == ["418207"]


async def test_the_client_raises_the_providers_refusal(provider: Provider) -> None:
    wrong = Platform("发票云", provider.fapiaoyun.app_key, "not-the-secret")

    async with client_of(provider, wrong) as client:
        with pytest.raises(ProviderError) as refused:
            await client.claim(S1, provider.clock.now())

    assert (refused.value.status, refused.value.code) == (401, "bad_signature")


async def test_another_customers_number_is_an_error_not_a_missing_code(
    provider: Provider, client: ProviderClient
) -> None:
    with pytest.raises(ProviderError) as refused:
        await client.claim(S2, provider.clock.now())

    assert (refused.value.status, refused.value.code) == (404, "not_found")


async def test_waiting_for_a_code_wakes_when_it_reaches_the_provider(
    provider: Provider, client: ProviderClient
) -> None:
    codes = RemoteCodes(client, provider.stack.runtime.db, provider.clock)
    await provider.receive("305118")  # a code from before the request
    provider.clock.advance(60)

    expectation = await codes.expect_code(S1, "login:remote")
    waiting = asyncio.create_task(codes.wait_for_code(expectation, 10))
    await asyncio.sleep(0.3)
    await provider.receive("418207")

    async with asyncio.timeout(3):
        assert await waiting == "418207"


async def test_waiting_for_a_code_that_never_comes_gives_none(
    provider: Provider, client: ProviderClient
) -> None:
    codes = RemoteCodes(client, provider.stack.runtime.db, provider.clock)
    expectation = await codes.expect_code(S1, "login:remote")

    assert await codes.wait_for_code(expectation, 0.5) is None
    with pytest.raises(LookupError):
        await codes.wait_for_code(expectation, 0.5)


async def test_spent_today_counts_the_codes_asked_for_here(
    provider: Provider, client: ProviderClient
) -> None:
    codes = RemoteCodes(client, provider.stack.runtime.db, provider.clock)

    first = await codes.expect_code(S1, "login:a")
    await codes.expect_code(S1, "login:b")
    await codes.withdraw(first)

    assert await codes.spent_today(S1) == 1
    assert await codes.spent_today(S2) == 0
    provider.clock.advance(24 * 3600)
    assert await codes.spent_today(S1) == 0
