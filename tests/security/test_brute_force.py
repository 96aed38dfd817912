"""Guessing does not pay: the limits hold under a burst, keys are hashes.

One at a time, five wrong passwords lock an operator and twenty refusals turn a
client away (tests/web/test_signing_in.py); five wrong PINs lock a number and
the query page holds a burst to the same (tests/query/test_query_page.py).
Here the operator's sign-in meets guesses sent all at once; the API keys are
shown to be kept and compared only as hashes; and wrong API keys, provider
signatures and chat tokens turn their client away after twenty, over real HTTP,
while another address with the right key gets in.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select

from banshui.accounts.models import Tenant
from banshui.api.guessing import CLIENT_LIMIT as KEY_LIMIT
from banshui.api.guessing import CLIENT_WINDOW as KEY_WINDOW
from banshui.api.models import KeyRefusal
from banshui.audit.models import AuditEntry
from banshui.chat.senders import allow
from banshui.operators.models import SignInRefusal
from banshui.operators.roles import Role
from banshui.operators.signin import CLIENT_LIMIT
from banshui.operators.users import add_operator
from security.conftest import CHAT_TOKEN, World
from security.wire import Signed, banshui_signed
from web.console import Console

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "Brute-force-pass-2026"
ENTERPRISES = "/api/v1/enterprises"
# Loopback answers from all of 127.0.0.0/8: a second client, over real sockets.
OTHER_ADDRESS = "127.0.0.2"


async def forget_refusals(world: World) -> None:
    async with world.stack.runtime.db.transaction() as session:
        await session.execute(delete(SignInRefusal))


async def operator(world: World, name: str) -> None:
    runtime = world.stack.runtime
    await add_operator(
        runtime.db, runtime.clock, name=name, password=PASSWORD,
        role=Role.OPERATOR, tenant_id=world.tenant_id, actor="test",
    )  # fmt: skip


async def sign_in(world: World, name: str, password: str) -> httpx.Response:
    async with Console(world.stack.url) as console:
        return await console.sign_in(name, password)


async def audit_count(world: World, action: str, subject: str) -> int:
    async with world.stack.runtime.db.session() as session:
        found = await session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == action, AuditEntry.subject == subject
            )
        )
    return int(found or 0)


async def test_a_burst_of_wrong_passwords_locks_the_operator_once_for_good(
    world: World,
) -> None:
    await forget_refusals(world)
    await operator(world, "周九")
    guesses = [sign_in(world, "周九", f"wrong-guess-{n:02d}") for n in range(6)]

    answers = await asyncio.gather(*guesses, sign_in(world, "周九", PASSWORD))

    # However the burst interleaves, the lock falls once, after five wrong
    # passwords, and holds against the right one (which may have come first).
    assert all(answer.status_code == 403 for answer in answers[:-1])
    assert await audit_count(world, "operator.locked", "operator:周九") == 1
    assert (await sign_in(world, "周九", PASSWORD)).status_code == 403
    await forget_refusals(world)


async def test_a_burst_from_one_client_is_held_to_its_twenty_refusals(
    world: World,
) -> None:
    await forget_refusals(world)
    runtime = world.stack.runtime
    earlier = CLIENT_LIMIT - 3
    async with runtime.db.transaction() as session:
        for _ in range(earlier):
            session.add(SignInRefusal(client="127.0.0.1", at=runtime.clock.now()))
    guesses = [sign_in(world, f"无人{n}", "whatever-it-is") for n in range(6)]

    answers = await asyncio.gather(*guesses)

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(403) == CLIENT_LIMIT - earlier
    assert statuses.count(429) == len(answers) - (CLIENT_LIMIT - earlier)
    await forget_refusals(world)


async def test_api_keys_are_kept_only_as_their_sha256(world: World) -> None:
    async with world.stack.runtime.db.session() as session:
        stored = await session.scalar(
            select(Tenant.api_key_hash).where(Tenant.id == world.tenant_id)
        )

    assert stored == hashlib.sha256(world.api_key.encode()).hexdigest()
    assert world.api_key not in str(stored)


async def forget_key_refusals(world: World) -> None:
    async with world.stack.runtime.db.transaction() as session:
        await session.execute(delete(KeyRefusal))


@asynccontextmanager
async def from_another_address(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(local_address=OTHER_ADDRESS)
    async with httpx.AsyncClient(
        base_url=world.stack.url, transport=transport, timeout=30
    ) as http:
        yield http


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def assert_turned_away(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "too_many_requests"
    retry_after = int(answer.headers["retry-after"])
    assert 1 <= retry_after <= KEY_WINDOW.total_seconds()


async def test_a_key_one_character_off_or_a_burst_of_guesses_gets_nothing(
    world: World,
) -> None:
    await forget_key_refusals(world)
    last = world.api_key[-1]
    near = world.api_key[:-1] + ("A" if last != "A" else "B")
    guesses = [near] + [f"bsk_{secrets.token_urlsafe(32)}" for _ in range(40)]
    wrong = await world.refused("api", "bad_key")
    limited = await world.refused("api", "rate_limited")

    answers = await asyncio.gather(
        *(world.http.get(ENTERPRISES, headers=bearer(guess)) for guess in guesses)
    )

    # However the burst interleaves, twenty are looked at and refused; the rest
    # are turned away, and so is the right key from the same address.
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(401) == KEY_LIMIT
    assert statuses.count(429) == len(guesses) - KEY_LIMIT
    for answer in answers:
        if answer.status_code == 429:
            assert_turned_away(answer)
    assert_turned_away(await world.http.get(ENTERPRISES, headers=bearer(world.api_key)))
    assert await world.refused("api", "bad_key") == wrong + KEY_LIMIT
    assert await world.refused("api", "rate_limited") == (
        limited + len(guesses) - KEY_LIMIT + 1
    )
    await forget_key_refusals(world)


async def test_a_client_turned_away_waits_out_its_window_while_others_get_in(
    world: World,
) -> None:
    await forget_key_refusals(world)
    runtime = world.stack.runtime
    # Twenty refusals, the oldest about to leave the window.
    first = runtime.clock.now() - KEY_WINDOW + timedelta(seconds=30)
    async with runtime.db.transaction() as session:
        for n in range(KEY_LIMIT):
            at = first + timedelta(seconds=n)
            session.add(KeyRefusal(client="127.0.0.1", at=at))

    turned_away = await world.http.get(ENTERPRISES, headers=bearer(world.api_key))
    async with from_another_address(world) as other:
        right = await other.get(ENTERPRISES, headers=bearer(world.api_key))
        wrong = await other.get(ENTERPRISES, headers=bearer("bsk_not-the-key"))

    assert_turned_away(turned_away)
    assert int(turned_away.headers["retry-after"]) <= 30
    assert right.status_code == 200, right.text
    assert wrong.status_code == 401
    await forget_key_refusals(world)


def provider_sources(world: World, secret: str) -> Signed:
    url = f"{world.stack.url}/api/v1/provider/sources"
    return banshui_signed("GET", url, world.app_key, secret, b"")


async def test_wrong_provider_signatures_turn_their_client_away_after_twenty(
    world: World,
) -> None:
    await forget_key_refusals(world)
    wrong = await world.refused("provider", "bad_signature")
    limited = await world.refused("provider", "rate_limited")
    guesses = [
        provider_sources(world, f"guessed-secret-{n:02d}-0000000000")
        for n in range(KEY_LIMIT + 1)
    ]

    answers = [await world.send(guess) for guess in guesses]
    right = provider_sources(world, world.app_secret)
    same_address = await world.send(right)
    async with from_another_address(world) as other:
        signed = provider_sources(world, world.app_secret)
        elsewhere = await other.get(signed.url, headers=signed.headers)

    assert [a.status_code for a in answers] == [401] * KEY_LIMIT + [429]
    assert_turned_away(answers[-1])
    assert_turned_away(same_address)
    assert elsewhere.status_code == 200, elsewhere.text
    assert await world.refused("provider", "bad_signature") == wrong + KEY_LIMIT
    assert await world.refused("provider", "rate_limited") == limited + 2
    await forget_key_refusals(world)


async def test_wrong_chat_tokens_turn_their_client_away_after_twenty(
    world: World,
) -> None:
    await forget_key_refusals(world)
    runtime = world.stack.runtime
    await allow(runtime.db, runtime.clock, "ops-guessing", actor="test")
    command = {"sender": "ops-guessing", "text": "查询小号#19900000001"}
    wrong = await world.refused("chat", "bad_token")
    limited = await world.refused("chat", "rate_limited")

    answers = [
        await world.http.post(
            "/hooks/chat", json=command, headers=bearer(f"guessed-chat-token-{n:02d}")
        )
        for n in range(KEY_LIMIT + 1)
    ]
    same_address = await world.http.post(
        "/hooks/chat", json=command, headers=bearer(CHAT_TOKEN)
    )
    api_key = await world.http.get(ENTERPRISES, headers=bearer(world.api_key))
    async with from_another_address(world) as other:
        elsewhere = await other.post(
            "/hooks/chat", json=command, headers=bearer(CHAT_TOKEN)
        )

    assert [a.status_code for a in answers] == [401] * KEY_LIMIT + [429]
    assert_turned_away(answers[-1])
    assert_turned_away(same_address)
    # Wrong chat tokens and wrong API keys draw on the same twenty.
    assert_turned_away(api_key)
    assert elsewhere.status_code == 200, elsewhere.text
    assert await world.refused("chat", "bad_token") == wrong + KEY_LIMIT
    assert await world.refused("chat", "rate_limited") == limited + 2
    await forget_key_refusals(world)
