"""Claiming codes through the signed provider API: each code once, waking on arrival."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from banshui.demo.cast import S1, S2
from provider.conftest import Provider, claims_path

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
