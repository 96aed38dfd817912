"""Where a request comes from: X-Forwarded-For counts only from a trusted proxy,
and then its rightmost untrusted hop is the client, for limits and the audit; the
limits count an IPv6 client by its /64."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from banshui.api.guessing import CLIENT_LIMIT as KEY_LIMIT
from banshui.audit.models import AuditEntry
from banshui.core.settings import SettingsError, load_settings
from banshui.operators.models import SignInRefusal
from banshui.operators.signin import CLIENT_LIMIT, TOO_MANY
from banshui.query.models import QueryRefusal
from banshui.query.service import CLIENT_LIMIT as QUERY_LIMIT
from conftest import Stack, running_stack

from .console import Console

SPOOFED = "198.51.100.66"
REAL = "203.0.113.7"


@asynccontextmanager
async def stack_trusting(
    folder: Path, database_url: str, *proxies: str
) -> AsyncIterator[Stack]:
    async with running_stack(
        folder, database_url=database_url, trusted_proxies=proxies
    ) as stack:
        yield stack


async def refused_sign_in(stack: Stack, forwarded_for: str | None) -> None:
    async with Console(stack.url) as console:
        if forwarded_for is not None:
            console.http.headers["X-Forwarded-For"] = forwarded_for
        answer = await console.sign_in("nobody", "not-the-password-1")
    assert answer.status_code == 403


async def refusal_clients(stack: Stack) -> list[str]:
    async with stack.runtime.db.session() as session:
        return list(await session.scalars(select(SignInRefusal.client)))


async def audit_clients(stack: Stack, action: str) -> list[str | None]:
    async with stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry.client).where(AuditEntry.action == action)
        )
        return list(rows)


def test_trusted_proxies_are_read_as_a_comma_separated_list_of_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSHUI_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")

    settings = load_settings()

    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")


def test_no_proxy_is_trusted_unless_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BANSHUI_TRUSTED_PROXIES", raising=False)

    assert load_settings().trusted_proxies == ()


@pytest.mark.parametrize("value", ["*", "nginx", "10.0.0.0/33"])
def test_a_trusted_proxy_that_is_no_address_stops_start_up_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BANSHUI_TRUSTED_PROXIES", value)

    with pytest.raises(SettingsError, match="BANSHUI_TRUSTED_PROXIES"):
        load_settings()


async def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url) as stack:
        await refused_sign_in(stack, SPOOFED)

        assert await refusal_clients(stack) == ["127.0.0.1"]
        assert await audit_clients(stack, "operator.sign_in_refused") == ["127.0.0.1"]


async def test_a_trusted_proxys_rightmost_untrusted_hop_is_the_client(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1") as stack:
        # The client wrote the left entry itself; the proxy appended the right.
        await refused_sign_in(stack, f"{SPOOFED}, {REAL}")

        assert await refusal_clients(stack) == [REAL]
        assert await audit_clients(stack, "operator.sign_in_refused") == [REAL]


async def test_hops_through_several_trusted_proxies_are_skipped(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1", "10.0.0.0/8") as s:
        await refused_sign_in(s, f"{SPOOFED}, {REAL}, 10.1.2.3")

        assert await refusal_clients(s) == [REAL]


async def test_the_sign_in_limit_counts_per_forwarded_client(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1") as stack:
        earlier = stack.runtime.clock.now() - timedelta(minutes=1)
        async with stack.runtime.db.transaction() as session:
            for _ in range(CLIENT_LIMIT):
                session.add(SignInRefusal(client=REAL, at=earlier))

        async with Console(stack.url) as blocked, Console(stack.url) as other:
            blocked.http.headers["X-Forwarded-For"] = REAL
            other.http.headers["X-Forwarded-For"] = SPOOFED
            held = await blocked.sign_in("nobody", "not-the-password-1")
            free = await other.sign_in("nobody", "not-the-password-1")

    assert held.status_code == 429 and TOO_MANY in held.text
    assert free.status_code == 403


async def test_the_query_page_counts_refusals_against_the_forwarded_client(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1") as stack:
        answer = await stack.http.post(
            "/query",
            data={"number": "19912340001", "pin": "wrong-pin-1"},
            headers={"X-Forwarded-For": f"{SPOOFED}, {REAL}"},
        )
        async with stack.runtime.db.session() as session:
            clients = list(await session.scalars(select(QueryRefusal.client)))

    assert answer.status_code == 403
    assert clients == [REAL]


async def test_the_query_page_ignores_a_forwarded_for_header_by_default(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url) as stack:
        await stack.http.post(
            "/query",
            data={"number": "19912340001", "pin": "wrong-pin-1"},
            headers={"X-Forwarded-For": SPOOFED},
        )
        async with stack.runtime.db.session() as session:
            clients = list(await session.scalars(select(QueryRefusal.client)))

    assert clients == ["127.0.0.1"]


# Two addresses one IPv6 host may pick from the /64 it was given, and a third.
HOST_ONE = "2001:db8:1:2::a"
HOST_TWO = "2001:db8:1:2:ffff:ffff:ffff:b"
SAME_64 = "2001:db8:1:2:1234::c"
OTHER_64 = "2001:db8:1:3::a"


async def refused_query(stack: Stack, forwarded_for: str) -> int:
    answer = await stack.http.post(
        "/query",
        data={"number": "19912340001", "pin": "wrong-pin-1"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return answer.status_code


async def test_ipv6_addresses_of_one_64_share_the_query_pages_twenty_tries(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1") as stack:
        # The host takes turns between two of its addresses, then tries a third.
        for attempt in range(QUERY_LIMIT):
            address = HOST_ONE if attempt % 2 else HOST_TWO
            assert await refused_query(stack, address) == 403

        turned_away = await refused_query(stack, SAME_64)
        elsewhere = await refused_query(stack, OTHER_64)
        ipv4_mapped = await refused_query(stack, f"::ffff:{REAL}")
        ipv4 = await refused_query(stack, REAL)

    assert turned_away == 429
    assert elsewhere == 403
    # Whichever way it is written, an IPv4 client is one client.
    assert ipv4_mapped == 403 and ipv4 == 403


async def test_ipv6_addresses_of_one_64_share_the_api_keys_twenty_guesses(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1") as stack:

        async def guess(address: str) -> int:
            answer = await stack.http.get(
                "/api/v1/enterprises",
                headers={
                    "Authorization": "Bearer not-a-key",
                    "X-Forwarded-For": address,
                },
            )
            return answer.status_code

        for attempt in range(KEY_LIMIT):
            assert await guess(HOST_ONE if attempt % 2 else HOST_TWO) == 401
        turned_away = await guess(SAME_64)
        elsewhere = await guess(OTHER_64)

    assert turned_away == 429
    assert elsewhere == 401


async def test_an_ipv6_client_is_counted_by_its_64_and_audited_by_its_address(
    tmp_path: Path, database_url: str
) -> None:
    async with stack_trusting(tmp_path, database_url, "127.0.0.1") as stack:
        await refused_sign_in(stack, HOST_ONE)

        assert await refusal_clients(stack) == ["2001:db8:1:2::/64"]
        assert await audit_clients(stack, "operator.sign_in_refused") == [HOST_ONE]
