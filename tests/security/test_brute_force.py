"""Guessing does not pay: the sign-in's limits hold under a burst, keys are hashes.

One at a time, five wrong passwords lock an operator and twenty refusals turn a
client away (tests/web/test_signing_in.py); five wrong PINs lock a number and
the query page holds a burst to the same (tests/query/test_query_page.py).
Here the operator's sign-in meets guesses sent all at once, and the API keys
are shown to be kept and compared only as hashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

import httpx
import pytest
from sqlalchemy import delete, func, select

from banshui.accounts.models import Tenant
from banshui.audit.models import AuditEntry
from banshui.operators.models import SignInRefusal
from banshui.operators.roles import Role
from banshui.operators.signin import CLIENT_LIMIT
from banshui.operators.users import add_operator
from security.conftest import World
from web.console import Console

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "Brute-force-pass-2026"


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


async def test_a_key_one_character_off_or_a_burst_of_guesses_gets_nothing(
    world: World,
) -> None:
    last = world.api_key[-1]
    near = world.api_key[:-1] + ("A" if last != "A" else "B")
    guesses = [near] + [f"bsk_{secrets.token_urlsafe(32)}" for _ in range(40)]

    answers = await asyncio.gather(
        *(
            world.http.get(
                "/api/v1/enterprises", headers={"authorization": f"Bearer {guess}"}
            )
            for guess in guesses
        )
    )
    right = await world.http.get(
        "/api/v1/enterprises", headers={"authorization": f"Bearer {world.api_key}"}
    )

    assert {answer.status_code for answer in answers} == {401}
    assert right.status_code == 200
