"""Claiming codes through the signed provider API: each code once, waking on arrival."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from banshui.audit.models import AuditEntry
from banshui.demo.cast import S1, S2
from banshui.numbers.models import Customer
from banshui.provider.claims import claim_code
from banshui.sms.models import InboundSms
from provider.conftest import Platform, Provider, claims_path

UNKNOWN = "13912345678"


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    return error


async def test_a_signed_claim_gets_the_code_once(provider: Provider) -> None:
    sms_id = await provider.receive("418207")

    first = await provider.claim(provider.fapiaoyun)
    second = await provider.claim(provider.fapiaoyun)

    assert first.status_code == 200, first.text
    assert first.json()["code"] == "418207"
    assert first.json()["sms_id"] == sms_id
    received = datetime.fromisoformat(first.json()["received_at"])
    assert received == provider.clock.now()
    assert error_of(second, 404)["code"] == "no_code"


async def test_codes_are_handed_out_oldest_first(provider: Provider) -> None:
    await provider.receive("418207")
    provider.clock.advance(10)
    await provider.receive("562913")

    codes = [(await provider.claim(provider.fapiaoyun)).json()["code"] for _ in "ab"]

    assert codes == ["418207", "562913"]


async def test_a_code_from_before_after_is_not_handed_out(provider: Provider) -> None:
    await provider.receive("418207")
    provider.clock.advance(60)

    late = await provider.claim(provider.fapiaoyun, after=provider.clock.now())

    assert error_of(late, 404)["code"] == "no_code"


async def test_a_stale_code_is_not_handed_out(provider: Provider) -> None:
    await provider.receive("418207")
    provider.clock.advance(5 * 60 + 1)

    stale = await provider.claim(
        provider.fapiaoyun, after=provider.clock.now() - timedelta(minutes=10)
    )

    assert error_of(stale, 404)["code"] == "no_code"


async def test_a_code_awaited_by_a_login_here_is_not_handed_out(
    provider: Provider,
) -> None:
    await provider.stack.runtime.inbox.expect_code(S1, "login:test")
    await provider.receive("418207")

    claimed = await provider.claim(provider.fapiaoyun)

    assert error_of(claimed, 404)["code"] == "no_code"


async def test_two_concurrent_claimers_get_the_code_once_between_them(
    provider: Provider,
) -> None:
    claimers = [
        asyncio.create_task(provider.claim(provider.fapiaoyun, wait=2))
        for _ in range(2)
    ]
    await asyncio.sleep(0.3)
    await provider.receive("418207")

    answers = await asyncio.gather(*claimers)

    assert sorted(answer.status_code for answer in answers) == [200, 404]
    assert [a.json()["code"] for a in answers if a.status_code == 200] == ["418207"]


async def test_a_long_poll_wakes_as_soon_as_the_sms_is_stored(
    provider: Provider,
) -> None:
    waiting = asyncio.create_task(provider.claim(provider.fapiaoyun, wait=30))
    await asyncio.sleep(0.3)
    started = time.monotonic()

    await provider.receive("418207")
    answer = await waiting

    assert answer.status_code == 200
    assert answer.json()["code"] == "418207"
    assert time.monotonic() - started < 2


async def test_a_long_poll_without_a_code_ends_after_its_wait(
    provider: Provider,
) -> None:
    started = time.monotonic()

    answer = await provider.claim(provider.fapiaoyun, wait=0.5)

    assert error_of(answer, 404)["code"] == "no_code"
    assert 0.5 <= time.monotonic() - started < 3


async def test_another_customers_number_answers_like_an_unknown_one(
    provider: Provider,
) -> None:
    await provider.receive("418207", number=S2)

    theirs = await provider.claim(provider.fapiaoyun, number=S2)
    unknown = await provider.claim(provider.fapiaoyun, number=UNKNOWN)

    assert error_of(theirs, 404) == error_of(unknown, 404)
    assert error_of(theirs, 404)["code"] == "not_found"
    assert (await provider.claim(provider.other, number=S2)).status_code == 200


async def test_a_bad_body_is_refused_by_field_after_the_signature(
    provider: Provider,
) -> None:
    too_long = json.dumps(
        {"after": provider.clock.now().isoformat(), "wait_seconds": 61}
    )
    naive = json.dumps({"after": "2026-03-02T10:00:00"})

    for body, field in ((too_long, "wait_seconds"), (naive, "after")):
        request = provider.signed(
            provider.fapiaoyun, "POST", claims_path(S1), body.encode()
        )
        answer = await provider.stack.http.send(request)
        assert error_of(answer, 422)["field"] == field

    garbled = provider.signed(provider.fapiaoyun, "POST", claims_path(S1), b"{")
    answer = await provider.stack.http.send(garbled)
    assert error_of(answer, 422)["code"] == "invalid_json"


async def test_the_listing_shows_the_latest_sms_with_codes(provider: Provider) -> None:
    await provider.receive("305118")
    provider.clock.advance(10)
    await provider.receive("418207")
    provider.clock.advance(10)
    await provider.receive("562913")
    await provider.claim(provider.fapiaoyun)

    path = f"/api/v1/provider/numbers/{S1}/sms?limit=2"
    answer = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "GET", path)
    )

    assert answer.status_code == 200, answer.text
    listed = answer.json()
    assert listed["number"] == S1
    assert [sms["code"] for sms in listed["sms"]] == ["562913", "418207"]
    assert listed["sms"][0]["sender"] == "12366"
    assert [sms["claimed"] for sms in listed["sms"]] == [False, False]


async def test_the_listing_of_another_customers_number_is_not_found(
    provider: Provider,
) -> None:
    path = f"/api/v1/provider/numbers/{S2}/sms"
    answer = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "GET", path)
    )

    assert error_of(answer, 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "after",
    [
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59-08:00",
        "9999-12-31T23:59:59+00:00",
        "1969-12-31T23:59:59+00:00",
    ],
)
async def test_an_after_far_in_the_past_or_future_is_a_422_on_after(
    provider: Provider, after: str
) -> None:
    body = json.dumps({"after": after}).encode()
    request = provider.signed(provider.fapiaoyun, "POST", claims_path(S1), body)

    answer = await provider.stack.http.send(request)

    refused = error_of(answer, 422)
    assert refused["field"] == "after"
    assert "1970" in refused["message"] and "2100" in refused["message"]


async def test_an_after_long_ago_still_claims_todays_code(provider: Provider) -> None:
    await provider.receive("418207")
    long_ago = datetime(1970, 1, 1, tzinfo=UTC)

    answer = await provider.claim(provider.fapiaoyun, after=long_ago)

    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == "418207"


async def signed_in(provider: Provider, platform: Platform) -> Customer:
    async with provider.stack.runtime.db.session() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.app_key == platform.app_key)
        )
    assert customer is not None
    return customer


async def audited(provider: Provider, subject: str) -> list[str]:
    async with provider.stack.runtime.db.session() as session:
        actions = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject == subject, AuditEntry.action.like("code.%"))
            .order_by(AuditEntry.id)
        )
        return list(actions)


async def claimers_of(provider: Provider, sms_id: int) -> str | None:
    async with provider.stack.runtime.db.session() as session:
        sms = await session.get(InboundSms, sms_id)
        assert sms is not None
        return sms.claimed_by


async def test_a_claim_whose_client_hung_up_stops_waiting_and_takes_no_code(
    provider: Provider,
) -> None:
    async def impatient() -> None:
        request = provider.claim_request(provider.fapiaoyun, wait=30)
        request.extensions["timeout"] = httpx.Timeout(1).as_dict()
        with pytest.raises(httpx.ReadTimeout):
            await provider.stack.http.send(request)

    await asyncio.gather(*(impatient() for _ in range(3)))
    # The server hears each hang-up and stops the wait behind it.
    for _ in range(50):
        if not provider.stack.runtime.notifier.waiting(S1):
            break
        await asyncio.sleep(0.05)
    assert provider.stack.runtime.notifier.waiting(S1) == 0

    sms_id = await provider.receive("418207")
    await asyncio.sleep(0.3)
    assert await claimers_of(provider, sms_id) is None

    answer = await provider.claim(provider.fapiaoyun)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == "418207"


async def test_a_code_claimed_as_the_client_hung_up_is_given_back(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = provider.stack.runtime
    sms_id = await provider.receive("418207")
    customer = await signed_in(provider, provider.fapiaoyun)
    gone = asyncio.Event()
    claim_since = runtime.inbox.claim_since

    async def hung_up_meanwhile(*args: Any) -> InboundSms | None:
        claimed = await claim_since(*args)
        gone.set()  # the connection closed while the claim was being written
        return claimed

    monkeypatch.setattr(runtime.inbox, "claim_since", hung_up_meanwhile)
    nothing = await claim_code(runtime, customer, S1, provider.clock.now(), 0, gone)
    monkeypatch.undo()

    assert nothing is None
    assert await claimers_of(provider, sms_id) is None
    assert await audited(provider, f"number:{S1}") == ["code.claimed", "code.released"]
    answer = await provider.claim(provider.fapiaoyun)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == "418207"
    assert await claimers_of(provider, sms_id) == f"customer:{customer.id}"
